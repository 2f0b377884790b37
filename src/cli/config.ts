// The Temporal CLI has no config check of its own: a bad config fails the run at its first
// workflow task, naming every bad field (`temporal workflow describe --workflow-id X`).
import { Command } from 'commander';
import { z } from 'zod';
import { RunConfigSchema, type RunConfig } from '../config/run-config';
import { chunkingOf, chunksInFlightOf, sharedPaceOf } from '../config/shared-quota';
import { loadRunConfig } from './load-config';
import { PRICES_SOURCE, priceFor } from '../config/known-prices';
import { promptCachePlan, type TokenPrice } from '../config/prompt-cache-support';
import { rubricSystemPrompt } from '../judges/prompts/rubric-prompt';

export function configCommand(): Command {
  const config = new Command('config').description('check run configs');

  config
    .command('validate')
    .description('validate a run config as the run will, and show the settings it resolves to')
    .argument('<file>', 'run config (.yaml, .yml or .json)')
    .action(async (file: string) => {
      const { config: resolved, warnings } = await loadRunConfig(file);
      for (const warning of warnings) console.error(warning);
      console.log(`ok: ${file}`);
      console.log(settingsSummary(resolved));
    });

  config
    .command('schema')
    .description('print the JSON Schema of run configs, for editor completion and checks')
    .addHelpText(
      'after',
      '\nSave it (arbiter config schema > run.schema.json), then point editors at it:\n' +
        '  YAML: first line  # yaml-language-server: $schema=./run.schema.json\n' +
        '  JSON: a top-level "$schema": "./run.schema.json" (arbiter drops it before starting the run)',
    )
    .action(() => {
      console.log(JSON.stringify(runConfigJsonSchema(), null, 2));
    });

  return config;
}

/**
 * The run config as JSON Schema, describing what a user writes (`io: 'input'`: defaulted
 * fields optional). Draft-07 because that is what YAML and JSON editor plugins read best;
 * anything zod cannot express becomes "any" rather than failing the whole schema.
 */
export function runConfigJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(RunConfigSchema, { io: 'input', target: 'draft-07', unrepresentable: 'any' });
  // Allowed so a JSON config can name its schema; loadRunConfig drops it before validation.
  const properties = { $schema: { type: 'string' }, ...(schema.properties ?? {}) };
  return { ...schema, title: 'Arbiter run config', properties };
}

function settingsSummary(c: RunConfig): string {
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  const judge =
    c.judge.provider === 'offline-heuristic'
      ? `offline-heuristic (text rules, not an LLM: demos and tests only), ${c.judge.mode}`
      : `${c.judge.provider} ${c.judge.model}, ${c.judge.mode}, ${c.judge.quota.requestsPerMinute} requests/min`;
  const rollouts =
    c.rollouts.type === 'directory'
      ? `files step-NNNNNN.jsonl in ${c.rollouts.path} (waits up to ${c.rollouts.waitTimeoutSeconds}s per step)`
      : 'sent by the trainer with the submitRollouts update';
  const review =
    c.review.everySteps > 0 || c.review.lowConfidenceMargin > 0
      ? `${c.review.everySteps > 0 ? `${c.review.samples} samples every ${c.review.everySteps} steps` : 'no periodic samples'}, ` +
        `deadline ${c.review.deadlineHours}h`
      : 'only flagged samples (inconsistent judgements)';
  const rows: [string, string][] = [
    ['run id', c.runId ?? '(the workflow id)'],
    ['steps', `${c.steps}, from step ${c.firstStep}`],
    ['rollouts', rollouts],
    ['judge', judge],
    ['chunks', chunksLine(c)],
    ['fallback', `${c.fallback.policy}${c.fallback.policy === 'neutral' ? ` ${c.fallback.neutralValue}` : ''}, pause above ${pct(c.fallback.maxRate)}`],
    ['review', review],
    ...(c.judge.provider === 'bedrock'
      ? [['prompt cache', promptCachePlan(c.judge.model, c.judge.promptCache, rubricSystemPrompt(c.judge.rubric))] as [string, string]]
      : []),
    ...(c.judge.provider === 'offline-heuristic' ? [] : [['price', priceLine(c.prices, c.judge.model)] as [string, string]]),
    ['budget', c.budgetUsd === undefined ? 'none' : `$${c.budgetUsd}`],
    ['judge cache', c.cache ? 'on' : 'off'],
    ['outputDir', c.outputDir],
  ];
  return rows.map(([k, v]) => `  ${k.padEnd(12)} ${v}`).join('\n');
}

/** Which price the run's cost estimate uses, and where it comes from. */
function priceLine(prices: Record<string, TokenPrice>, model: string): string {
  const given = prices[model];
  const price = priceFor(prices, model);
  if (!price) return `none for ${model}: cost shows as 0 (add prices.${model} {inputPerMTok, outputPerMTok})`;
  const text = `$${price.inputPerMTok} input, $${price.outputPerMTok} output per million tokens`;
  return given ? `${text} (prices.${model})` : `${text}: list price, ${PRICES_SOURCE}; set prices.${model} to override`;
}

/** How a step is cut and judged: on a shared account, the queue, its pace and the run's weight. */
function chunksLine(c: RunConfig): string {
  const line = `${chunkingOf(c).chunkSize} rollouts per activity, ${chunksInFlightOf(c)} in flight per step`;
  const account = sharedPaceOf(c.judge);
  if (!account) return line;
  const { shared, tasksPerSecond } = account;
  return `${line}, on the account's queue ${JSON.stringify(shared.taskQueue)} (weight ${shared.weight}; ${Math.round(tasksPerSecond * 100) / 100} chunks/s for all runs on it)`;
}
