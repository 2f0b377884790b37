// The same with the Temporal CLI (input JSON with absolute paths; a worker must poll the queue):
//   temporal workflow start --task-queue arbiter --type judgeValidation --workflow-id validate-1 --input-file validate.json
//   temporal workflow query --workflow-id validate-1 --type validationProgress
import { dirname, isAbsolute, resolve } from 'node:path';
import { Client, WorkflowExecutionAlreadyStartedError, WorkflowIdReusePolicy, type WorkflowHandle } from '@temporalio/client';
import { DefaultLogger, Runtime, type Worker } from '@temporalio/worker';
import { Command, Option } from 'commander';
import { parseOrThrow } from '../config/validation-error';
import { connectOrStart } from '../temporal/dev-server/connect-or-start';
import { connectClient, connectWorker, temporalSettings } from '../temporal/connection';
import { firstWorkflowTask } from '../temporal/first-workflow-task';
import { workflowUrl } from '../temporal/web-ui-link';
import { createArbiterWorker } from '../worker/create-worker';
import { workerSettingsFromEnv } from '../config/worker-settings';
import { DatasetError, readDataset } from '../validation/dataset';
import { THRESHOLD_FLAGS } from '../validation/measure/gates';
import { ValidationInputSchema, type Thresholds, type ValidationConfig } from '../validation/validate-config';
import { validationProgressQuery, type ValidationProgress } from '../../workflows/definitions';
import { judgeValidation } from '../../workflows/judge-validation';
import { withConnectionOptions, type ConnectionFlags } from './connect';
import { CliError, EXIT_INVALID } from './errors';
import { rootMessage } from '../temporal/client-errors';
import { readDocument } from './parse-document';
import { isS3Location } from '../storage/location';
import { arbiterDataConverter } from '../temporal/payload-compression';

/** Exit code when the validation ran but a judge failed a threshold: CI tells it from a crash. */
export const EXIT_THRESHOLD = 3;

/** How long a worker already on the task queue has to complete the validation's first workflow task. */
export const FIRST_TASK_SECONDS = 20;

type ThresholdFlags = Partial<Record<keyof Thresholds, string>>;

export function judgeCommand(): Command {
  const judge = new Command('judge').description('check a judge before training on it (workflow type judgeValidation)');
  const validate = judge
    .command('validate')
    .description('measure a judge on a labelled dataset: self-consistency, position bias, agreement with humans, gold and production metrics, other judges, bias probes')
    .argument('<config>', 'validation config (.yaml or .json): dataset, judges, repeats, thresholds')
    .option('--id <workflowId>', 'workflow id, also the output folder name (default validate-<timestamp>)')
    .option('--json', 'print the report JSON instead of the summary')
    .addOption(new Option('--task-queue <name>', 'task queue; a worker is started in this process when none polls it').env('ARBITER_TASK_QUEUE').default('arbiter'));
  for (const [key, flag] of Object.entries(THRESHOLD_FLAGS)) validate.option(`${flag} <number>`, thresholdHelp[key as keyof Thresholds]);
  withConnectionOptions(validate).action(async (file: string, opts: ConnectionFlags & ThresholdFlags & { id?: string; json?: boolean; taskQueue: string }) => {
    const config = await loadValidationConfig(file, opts);
    await runValidation(config, opts);
  });
  return judge;
}

const thresholdHelp: Record<keyof Thresholds, string> = {
  minKappa: "fail when Cohen's κ with the human pass/fail is below this",
  maxFlipRate: 'fail when any criterion flips across repeats more often than this',
  maxAttackPass: 'fail when any built-in attack passes more often than this',
  minSpearman: 'fail when Spearman ρ with the gold scores is below this',
  maxOffset: 'fail when the mean offset from the gold scores is larger than this (either way)',
  maxPositionBias: 'fail when the first-position pick rate is further than this from 0.5',
  maxLengthCorrelation: 'fail when |Spearman ρ| of score with response length is above this',
};

/** Reads the config, resolves its paths against its folder, applies threshold flags, validates it and its dataset. */
export async function loadValidationConfig(file: string, flags: ThresholdFlags & { id?: string }): Promise<ValidationConfig> {
  const raw = await readDocument(file);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new CliError(`invalid validation config ${file}:\n  (root): expected an object of settings`, EXIT_INVALID);
  const baseDir = dirname(resolve(file));
  const settings = { ...(raw as Record<string, unknown>) };
  delete settings.$schema;
  for (const key of ['dataset', 'outputDir']) {
    const p = settings[key];
    if (typeof p === 'string' && p !== '' && !isAbsolute(p) && !isS3Location(p)) settings[key] = resolve(baseDir, p);
  }
  settings.outputDir ??= resolve('runs/validation');
  const thresholds = { ...((settings.thresholds as Record<string, unknown> | undefined) ?? {}) };
  for (const [key, flag] of Object.entries(THRESHOLD_FLAGS)) {
    const text = flags[key as keyof Thresholds];
    if (text === undefined) continue;
    const value = Number(text);
    if (text.trim() === '' || !Number.isFinite(value)) throw new CliError(`${flag}: expected a number, got ${JSON.stringify(text)}`, EXIT_INVALID);
    thresholds[key] = value;
  }
  settings.thresholds = thresholds;
  const config = parseOrThrow(ValidationInputSchema, settings, (issues) => new CliError(`invalid validation config ${file}:\n  ${issues.join('\n  ')}`, EXIT_INVALID));
  try {
    await readDataset(config.dataset);
  } catch (err) {
    if (err instanceof DatasetError) throw new CliError(err.message, EXIT_INVALID);
    throw new CliError(`cannot read dataset ${config.dataset}: ${rootMessage(err)}`, EXIT_INVALID);
  }
  return config;
}

async function runValidation(config: ValidationConfig, opts: ConnectionFlags & { id?: string; json?: boolean; taskQueue: string }): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  for (const j of config.judges) {
    if (j.judge.provider === 'offline-heuristic') {
      (opts.json ? console.error : console.log)(`judge ${j.name}: the offline demo judge (offline heuristic: deterministic text rules, NOT an LLM)${j.judge.mode === 'preference' ? ', in preference mode: equal scores go to the response shown first' : ''}`);
    }
  }
  const target = await connectOrStart({ ...temporalSettings(opts), taskQueue: opts.taskQueue }, (line) => console.error(line));
  const settings = target.settings;
  const connection = await connectClient(settings);
  let worker: Worker | undefined;
  let nativeConnection;
  try {
    const client = new Client({ connection, namespace: settings.namespace, dataConverter: arbiterDataConverter });
    if (!(await hasWorker(client, settings.namespace, opts.taskQueue))) {
      nativeConnection = await connectWorker(settings);
      const env = workerSettingsFromEnv();
      console.error(`no worker polls task queue "${opts.taskQueue}": starting one in this process`);
      worker = await createArbiterWorker({
        connection: nativeConnection,
        namespace: settings.namespace,
        taskQueue: opts.taskQueue,
        // The person running this command chose the dataset: its folder may be read.
        settings: { ...env, allowedRolloutDirs: [...env.allowedRolloutDirs, dirname(config.dataset)] },
      });
    }
    const workflowId = opts.id ?? `validate-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    const follow = async () => {
      let handle;
      try {
        handle = await client.workflow.start(judgeValidation, {
          taskQueue: opts.taskQueue,
          workflowId,
          args: [{ ...config, validationId: config.validationId ?? workflowId }],
          staticSummary: `Arbiter judge validation: ${config.judges.map((j) => j.name).join(', ')} on ${config.dataset}`,
          workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
        });
      } catch (err) {
        if (err instanceof WorkflowExecutionAlreadyStartedError) throw new CliError(`a workflow with id ${workflowId} exists or existed; pick another with --id`);
        throw err;
      }
      console.error(`started judge validation ${workflowId} on task queue "${opts.taskQueue}"`);
      console.error(`Web UI: ${workflowUrl(target.uiUrl, settings.namespace, workflowId)}`);
      // A worker of ours has the workflow; one found on the queue may not, or may be gone.
      await requireFirstTask(handle, opts.taskQueue, worker ? undefined : FIRST_TASK_SECONDS);
      const stop = printProgress(() => handle.query(validationProgressQuery));
      try {
        return await handle.result();
      } finally {
        await stop();
      }
    };
    const result = worker ? await worker.runUntil(follow()) : await follow();
    if (opts.json) {
      const { readFile } = await import('node:fs/promises');
      console.log(await readFile(result.reportPath, 'utf8'));
    } else {
      console.log(result.summary);
      console.log(`report:  ${result.reportPath}\nsummary: ${result.summaryPath}`);
    }
    if (!result.passed) {
      for (const line of result.failedGates) console.error(line);
      process.exitCode = EXIT_THRESHOLD;
    }
  } finally {
    await connection.close();
    await nativeConnection?.close();
    await target.devServer?.stop();
  }
}

/**
 * Fails, instead of waiting forever, when the workers on the queue cannot run the validation
 * (an older Arbiter, or a worker that does not have judgeValidation) or none takes it within
 * `withinSeconds`; the workflow is terminated so that no worker picks it up later.
 */
async function requireFirstTask(handle: WorkflowHandle, taskQueue: string, withinSeconds: number | undefined): Promise<void> {
  const first = await firstWorkflowTask(handle, withinSeconds === undefined ? undefined : withinSeconds * 1000);
  if (first.kind === 'done') return;
  const what =
    first.kind === 'failed'
      ? `the worker polling task queue "${taskQueue}" cannot run judge validations (it failed the workflow's first task: ${first.message})`
      : `no worker on task queue "${taskQueue}" took the judge validation within ${withinSeconds} s`;
  await handle.terminate(`arbiter judge validate: ${what}`).catch(() => undefined);
  throw new CliError(
    `${what}.\n` +
      `Start a worker of this Arbiter version on it (ARBITER_TASK_QUEUE=${taskQueue} npm run worker), or give --task-queue a queue no worker polls and this command runs one itself.\n` +
      `Workflow ${handle.workflowId} was terminated.`,
  );
}

async function hasWorker(client: Client, namespace: string, taskQueue: string): Promise<boolean> {
  try {
    const described = await client.workflowService.describeTaskQueue({ namespace, taskQueue: { name: taskQueue }, taskQueueType: 1 });
    return (described.pollers?.length ?? 0) > 0;
  } catch {
    return false;
  }
}

/** A line on stderr whenever the phase or the number of finished slices changes. */
function printProgress(poll: () => Promise<ValidationProgress>): () => Promise<void> {
  let last = '';
  let stopped = false;
  const tick = async () => {
    const p = await poll().catch(() => undefined);
    if (!p) return;
    const line = p.phase === 'judging' ? `judging: ${p.unitsDone}/${p.units} slices, ${p.judged} judgements, ${p.failed} failed, ${p.calls} judge calls` : `${p.phase}…`;
    if (line !== last) console.error(line);
    last = line;
  };
  const loop = (async () => {
    while (!stopped) {
      await tick();
      await new Promise((r) => setTimeout(r, 500));
    }
  })();
  return async () => {
    stopped = true;
    await loop;
  };
}
