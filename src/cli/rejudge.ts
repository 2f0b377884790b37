// The same with the Temporal CLI (absolute paths, as the workers see them):
//   temporal workflow start --task-queue arbiter --type rejudgeRun --workflow-id run-42-rejudge-strict \
//     --input '{"runId":"run-42","outputDir":"/abs/runs","version":"strict","judge":{...}}'
//   temporal workflow query --workflow-id run-42-rejudge-strict --type progress
import { WorkflowExecutionAlreadyStartedError, WorkflowIdReusePolicy } from '@temporalio/client';
import { Option, type Command } from 'commander';
import { dirname, resolve } from 'node:path';
import { judgeLabel } from '../config/judge-config';
import { parseRejudgeInput, type RejudgeInput } from '../config/rejudge-config';
import type { RunConfig } from '../config/run-config';
import { workflowUrl } from '../temporal/web-ui-link';
import { rootMessage } from '../temporal/client-errors';
import { configQuery } from '../../workflows/definitions';
import { rejudgeRun, rejudgeWorkflowId } from '../../workflows/rejudge-run';
import { withConnectionOptions, withTemporal, type ConnectionFlags, type Temporal } from './connect';
import { CliError, EXIT_INVALID } from './errors';
import { loadRunConfig, resolvePaths } from './load-config';
import { readDocument } from './parse-document';
import { watchRun } from './watch-run';
import { resolveLocation } from '../storage/location';

/** What a re-judge takes from a judge file: a run config's scoring sections. */
const SCORING_KEYS = ['judge', 'rewards', 'fallback', 'cache', 'canary', 'chunkSize', 'maxChunksPerStep', 'maxChunksInFlight', 'scoring', 'prices'] as const;

interface RejudgeFlags extends ConnectionFlags {
  judge: string;
  steps?: string;
  version?: string;
  outputDir?: string;
  taskQueue: string;
}

/** `arbiter run rejudge`: starts a rejudgeRun for a run and follows it like `run watch`. */
export function addRejudgeCommand(run: Command): void {
  withConnectionOptions(
    run
      .command('rejudge')
      .description("judge a run's stored rollouts again (another judge, rubric or rewards) into <runDir>/versions/<version>/ (workflow type rejudgeRun)")
      .argument('<run>', "the run's workflow id")
      .requiredOption('--judge <file>', 'a run config file, or a file of its judge section (or of judge, rewards, fallback, ... sections), YAML or JSON')
      .option('--steps <a-b>', 'only these steps, e.g. 30-40 or 12 (default: every step the run checkpointed)')
      .option('--version <name>', "the version's name, its folder under versions/ (default: rejudge-<UTC time>)")
      .option('--output-dir <dir>', "the run's outputDir as the workers see it (default: read from the run's config)")
      .addOption(new Option('--task-queue <name>', 'task queue of the workers').env('ARBITER_TASK_QUEUE').default('arbiter')),
  ).action(async (runWorkflowId: string, opts: RejudgeFlags) => {
    const scoring = await readScoring(opts.judge);
    const steps = opts.steps === undefined ? undefined : stepRange(opts.steps);
    const version = opts.version ?? `rejudge-${new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-')}`;
    // The file's mistakes are named before anything connects (the run's folder is filled in after).
    checked({ ...scoring, runId: 'run', version, ...(steps && { steps }) }, opts.judge);
    await withTemporal(opts, async (t) => {
      const source = await runSource(t, runWorkflowId, opts.outputDir);
      const input = checked({ ...scoring, ...source, version, ...(steps && { steps }) }, opts.judge);
      const workflowId = rejudgeWorkflowId(runWorkflowId, version);
      let handle;
      try {
        handle = await t.client.workflow.start(rejudgeRun, {
          taskQueue: opts.taskQueue,
          workflowId,
          args: [input],
          staticSummary: `Arbiter re-judge of run ${source.runId} as version ${version}, judge ${judgeLabel(input.judge)}`,
          // The version names a folder: a second re-judge under it would write into the first's.
          workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
        });
      } catch (err) {
        if (err instanceof WorkflowExecutionAlreadyStartedError) throw new CliError(`version ${version} of run ${runWorkflowId} exists or existed; pick another --version`);
        throw err;
      }
      console.log(`started re-judge ${workflowId} of run ${source.runId} as version ${version} (judge ${judgeLabel(input.judge)})`);
      console.log(`Web UI: ${workflowUrl(t.uiBase, t.namespace, workflowId)}`);
      const code = await watchRun(t, workflowId, { intervalMs: 1000, tty: process.stdout.isTTY === true });
      if (code !== 0) {
        process.exitCode = code;
        return;
      }
      const result = await handle.result();
      for (const m of result.missing) console.log(`not re-judged: ${m.reason}`);
      console.log(`version ${version}: ${result.stepsDone} steps re-judged, written to ${result.versionDir} (manifest.jsonl, steps/)`);
    });
  });
}

/** The judge file's scoring sections: a whole run config, a file of sections, or a judge section alone. */
async function readScoring(file: string): Promise<Partial<RejudgeInput>> {
  const doc = await readDocument(file);
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new CliError(`invalid --judge ${file}:\n  (root): expected a run config, or a judge section`, EXIT_INVALID);
  }
  const raw = doc as Record<string, unknown>;
  if ('steps' in raw || 'rollouts' in raw) {
    // A run config: validated as one (every bad field named), then its scoring sections taken.
    const { input } = await loadRunConfig(file);
    return pick(input as Record<string, unknown>);
  }
  const { $schema: _schema, ...rest } = raw;
  const sections = resolvePaths('judge' in rest ? rest : { judge: rest }, dirname(resolve(file)));
  return sections as Partial<RejudgeInput>;
}

function pick(settings: Record<string, unknown>): Partial<RejudgeInput> {
  return Object.fromEntries(SCORING_KEYS.filter((k) => settings[k] !== undefined).map((k) => [k, settings[k]]));
}

/** `30-40` or `12`. */
function stepRange(text: string): { from: number; to: number } {
  const m = /^(\d+)(?:-(\d+))?$/.exec(text.trim());
  if (!m) throw new CliError(`--steps ${text}: a step (12) or a range of steps (30-40)`, EXIT_INVALID);
  const from = Number(m[1]);
  const to = m[2] === undefined ? from : Number(m[2]);
  if (to < from) throw new CliError(`--steps ${text}: the range ends before it starts`, EXIT_INVALID);
  return { from, to };
}

/**
 * Which folder holds the run and where its rollouts came from: from the run's own config (its
 * `config` query), else from --output-dir (the folder then named after the workflow id).
 */
async function runSource(t: Temporal, runWorkflowId: string, outputDir: string | undefined): Promise<Pick<RejudgeInput, 'runId' | 'outputDir' | 'rollouts'>> {
  let config: RunConfig;
  try {
    config = await t.connection.withDeadline(Date.now() + 10_000, () => t.client.workflow.getHandle(runWorkflowId).query(configQuery));
  } catch (err) {
    if (outputDir === undefined) {
      throw new CliError(`cannot read run ${runWorkflowId}'s config (${rootMessage(err)}): give --output-dir, the run's outputDir as the workers see it`);
    }
    return { runId: runWorkflowId, outputDir: resolveLocation(outputDir) };
  }
  return { runId: config.runId ?? runWorkflowId, outputDir: outputDir === undefined ? config.outputDir : resolveLocation(outputDir), rollouts: config.rollouts };
}

/** The input as the workflow will validate it, each bad field named with the file it came from. */
function checked(input: Record<string, unknown>, file: string): RejudgeInput {
  const fail = (issues: string[]) => new CliError(`invalid re-judge (--judge ${file}):\n  ${issues.join('\n  ')}`, EXIT_INVALID);
  parseRejudgeInput(input, fail);
  return input as RejudgeInput;
}
