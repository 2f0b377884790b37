// The same with the Temporal CLI (input JSON with absolute paths):
//   temporal workflow start --task-queue arbiter --type rftRun --workflow-id run-42 --input-file run.json
//   temporal workflow query --workflow-id run-42 --type progress
//   temporal workflow update execute --workflow-id run-42 --name pause --input '{"reason":"x"}'
//   temporal workflow update execute --workflow-id run-42 --name resume --input '{}'
//   temporal workflow update execute --workflow-id run-42 --name cancel --input '{"mode":"abandon-step"}'
//   temporal workflow update execute --workflow-id run-42 --name reconfigure --input '{"chunkSize":32}'
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowIdReusePolicy,
  WorkflowNotFoundError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
} from '@temporalio/client';
import { Command, Option } from 'commander';
import type { z } from 'zod';
import {
  CancelRequestSchema,
  PauseRequestSchema,
  ReconfigureRequestSchema,
  ResumeRequestSchema,
} from '../config/controls';
import { RunConfigSchema, type RunConfig } from '../config/run-config';
import { parseOrThrow } from '../config/validation-error';
import { cancelUpdate, pauseUpdate, reconfigureUpdate, resumeUpdate, type ControlReply } from '../../workflows/definitions';
import { withConnectionOptions, withTemporal, type ConnectionFlags, type Temporal } from './connect';
import { CliError, EXIT_INVALID } from './errors';
import { updateRejection } from '../temporal/client-errors';
import { progressReport, stepLine } from './format-progress';
import { loadRunConfig } from './load-config';
import { readJsonArg } from './parse-document';
import { readRun } from './read-run';
import { addDiffCommand } from './run-diff';
import { addExportCommand } from './run-export';
import { addRejudgeCommand } from './rejudge';
import { addReportCommand } from './run-report';
import { workflowUrl } from '../temporal/web-ui-link';
import { watchRun } from './watch-run';
import { rftRun } from '../../workflows/rft-run';
import { judgeLabel } from '../config/judge-config';

/** How long a control update waits for a worker to accept it before the CLI gives up waiting. */
const UPDATE_WAIT_SECONDS = 30;

export function runCommand(): Command {
  const run = new Command('run').description('start, follow and steer training runs (workflow type rftRun)');

  withConnectionOptions(
    run
      .command('start')
      .description('start a run from a YAML or JSON config')
      .argument('<config>', 'run config file (.yaml, .yml or .json)')
      .option('--id <workflowId>', 'workflow id, also the run folder\'s name (default: runId of the config, else run-<timestamp>); must equal runId if the config sets one')
      .addOption(new Option('--task-queue <name>', 'task queue of the workers').env('ARBITER_TASK_QUEUE').default('arbiter'))
      .addHelpText(
        'after',
        '\nRelative rollouts.path and outputDir are resolved against the config file\'s directory and sent\n' +
          'as absolute paths: the workers must see the same paths (same machine or shared mount).\n' +
          'An outputDir left out stays "runs", relative to the worker\'s working directory.',
      ),
  ).action(async (file: string, opts: ConnectionFlags & { id?: string; taskQueue: string }) => {
    const { input, config, warnings } = await loadRunConfig(file);
    for (const warning of warnings) console.error(warning);
    if (opts.id !== undefined && config.runId !== undefined && opts.id !== config.runId) {
      // The run's folder is named by runId: a run known as one id but writing under another is how two runs end up in one folder.
      throw new CliError(
        `--id ${opts.id} disagrees with runId ${config.runId} in ${file}: the run's folder is <outputDir>/<runId>; ` +
          'drop --id (the run is then started as runId), or change or remove runId in the config',
        EXIT_INVALID,
      );
    }
    const workflowId = opts.id ?? config.runId ?? `run-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    if (config.runId === undefined) checkUsableAsRunId(workflowId);
    await withTemporal(opts, async (t) => {
      try {
        await t.client.workflow.start(rftRun, {
          taskQueue: opts.taskQueue,
          workflowId,
          args: [input],
          staticSummary: summaryOf(config.runId ?? workflowId, config),
          // The id names the run's artifact folder: a second run under it would write into the first's.
          workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
        });
      } catch (err) {
        if (err instanceof WorkflowExecutionAlreadyStartedError) {
          throw new CliError(`a run with id ${workflowId} exists or existed; pick another with --id`);
        }
        throw err;
      }
      console.log(`started run ${workflowId} on task queue "${opts.taskQueue}" (namespace ${t.namespace})`);
      console.log(`Web UI: ${workflowUrl(t.uiBase, t.namespace, workflowId)}`);
      console.log(`watch:  npx arbiter run watch ${workflowId}`);
    });
  });

  withConnectionOptions(
    run
      .command('status')
      .description("print a run's progress")
      .argument('<workflowId>')
      .option('--json', 'print the raw progress object'),
  ).action(async (workflowId: string, opts: ConnectionFlags & { json?: boolean }) => {
    await withTemporal(opts, async (t) => {
      const state = await readRun(t, workflowId);
      if ('progress' in state) {
        console.log(opts.json ? JSON.stringify(state.progress, null, 2) : progressReport(workflowId, state.progress));
        return;
      }
      // Closed and no worker to answer the query: what the execution itself says.
      if (opts.json) {
        console.log(JSON.stringify({ workflowStatus: state.closed, result: state.result, failure: state.failure }, null, 2));
      } else if (state.result) {
        const r = state.result;
        console.log(`run ${workflowId} ${r.status}: ${r.stepsDone} steps scored (from the run's result; no worker answered the progress query)`);
        if (r.lastStep) console.log(`last ${stepLine(r.lastStep)}`);
      } else {
        console.log(`run ${workflowId} ${state.closed.toLowerCase()}${state.failure ? `: ${state.failure}` : ''}`);
      }
      if (state.closed !== 'COMPLETED') process.exitCode = 1;
    });
  });

  withConnectionOptions(
    run
      .command('watch')
      .description('follow a run with a progress bar until it completes or is cancelled')
      .argument('<workflowId>')
      .option('--interval <seconds>', 'seconds between polls', '1'),
  ).action(async (workflowId: string, opts: ConnectionFlags & { interval: string }) => {
    const seconds = Number(opts.interval);
    if (!(seconds > 0)) throw new CliError('--interval: a positive number of seconds', EXIT_INVALID);
    await withTemporal(opts, async (t) => {
      process.exitCode = await watchRun(t, workflowId, { intervalMs: seconds * 1000, tty: process.stdout.isTTY === true });
    });
  });

  withConnectionOptions(
    run
      .command('pause')
      .description('pause a run before its next step')
      .argument('<workflowId>')
      .option('--reason <text>', 'why (shown in progress and the Web UI)'),
  ).action(async (workflowId: string, opts: ConnectionFlags & { reason?: string }) => {
    const request = checked(PauseRequestSchema, { reason: opts.reason }, 'pause');
    await control(opts, workflowId, (h) => h.executeUpdate(pauseUpdate, { args: [request] }));
  });

  withConnectionOptions(
    run
      .command('resume')
      .description('resume a paused run, optionally with another judge')
      .argument('<workflowId>')
      .option('--judge <json-or-file>', 'judge config to use from the next step on (JSON text or a JSON/YAML file)')
      .option('--note <text>', 'a note for the record'),
  ).action(async (workflowId: string, opts: ConnectionFlags & { judge?: string; note?: string }) => {
    const judge = opts.judge === undefined ? undefined : await readJsonArg(opts.judge, '--judge');
    const request = checked(ResumeRequestSchema, { judge, note: opts.note }, 'resume');
    await control(opts, workflowId, (h) => h.executeUpdate(resumeUpdate, { args: [request] }));
  });

  withConnectionOptions(
    run
      .command('cancel')
      .description('end a run after the step in progress is checkpointed (or at once with --abandon-step)')
      .argument('<workflowId>')
      .option('--abandon-step', 'stop the step in progress instead of finishing it')
      .option('--reason <text>', 'why'),
  ).action(async (workflowId: string, opts: ConnectionFlags & { abandonStep?: boolean; reason?: string }) => {
    const request = checked(
      CancelRequestSchema,
      { mode: opts.abandonStep ? 'abandon-step' : 'finish-step', reason: opts.reason },
      'cancel',
    );
    await control(opts, workflowId, (h) => h.executeUpdate(cancelUpdate, { args: [request] }));
  });

  withConnectionOptions(
    run
      .command('reconfigure')
      .description('change judge, weights, review, chunking, fallback rate or budget from the next step on')
      .argument('<workflowId>')
      .argument('<json-or-file>', 'e.g. \'{"chunkSize":32,"fallbackMaxRate":0.1}\', or a JSON/YAML file'),
  ).action(async (workflowId: string, source: string, opts: ConnectionFlags) => {
    const change = await readJsonArg(source, 'reconfigure');
    // The schema fills defaults into absent nested settings, so it cannot tell "{}" from a change.
    if (typeof change === 'object' && change !== null && Object.keys(change).length === 0) {
      throw new CliError('invalid reconfigure request: nothing to change', EXIT_INVALID);
    }
    const request = checked(ReconfigureRequestSchema, change, 'reconfigure');
    await control(opts, workflowId, (h) => h.executeUpdate(reconfigureUpdate, { args: [request] }));
  });

  addReportCommand(run);
  addDiffCommand(run);
  addExportCommand(run);
  addRejudgeCommand(run);
  return run;
}

type Handle = ReturnType<Temporal['client']['workflow']['getHandle']>;

/**
 * Sends a control update and prints the run's reply. The run validates every update before
 * accepting it; a refusal is shown as the run worded it. An update needs a worker to be
 * accepted, so with none polling the CLI stops waiting instead of hanging.
 */
async function control(flags: ConnectionFlags, workflowId: string, send: (h: Handle) => Promise<ControlReply>): Promise<void> {
  await withTemporal(flags, async (t) => {
    const handle = t.client.workflow.getHandle(workflowId);
    try {
      const reply = await t.connection.withDeadline(Date.now() + UPDATE_WAIT_SECONDS * 1000, () => send(handle));
      console.log(reply.message);
    } catch (err) {
      const rejected = updateRejection(err);
      if (rejected !== undefined) throw new CliError(rejected);
      if (err instanceof WorkflowNotFoundError || err instanceof WorkflowUpdateRPCTimeoutOrCancelledError) {
        throw await explainUnsent(handle, workflowId, err);
      }
      throw err;
    }
  });
}

async function explainUnsent(handle: Handle, workflowId: string, err: Error): Promise<CliError> {
  let description;
  try {
    description = await handle.describe();
  } catch (describeError) {
    if (describeError instanceof WorkflowNotFoundError) return new CliError(`no run ${workflowId}`);
    throw describeError;
  }
  if (description.status.name !== 'RUNNING') {
    return new CliError(`run ${workflowId} is closed (${description.status.name.toLowerCase()})`);
  }
  if (err instanceof WorkflowUpdateRPCTimeoutOrCancelledError) {
    return new CliError(
      `no worker accepted the update within ${UPDATE_WAIT_SECONDS}s; is a worker polling task queue "${description.taskQueue}"? ` +
        '(the server may still deliver it when a worker comes back)',
    );
  }
  return new CliError(err.message);
}

/** Validates a request as the run will, so mistakes are named per field before anything is sent. */
function checked<S extends z.ZodType>(schema: S, request: unknown, what: string): z.input<S> {
  const withoutUndefined =
    typeof request === 'object' && request !== null && !Array.isArray(request)
      ? Object.fromEntries(Object.entries(request).filter(([, v]) => v !== undefined))
      : request;
  parseOrThrow(schema, withoutUndefined, (issues) => new CliError(`invalid ${what} request:\n  ${issues.join('\n  ')}`, EXIT_INVALID));
  return withoutUndefined as z.input<S>;
}

/** The workflow id doubles as the run's folder name when the config sets no runId. */
function checkUsableAsRunId(workflowId: string): void {
  const parsed = RunConfigSchema.shape.runId.safeParse(workflowId);
  if (!parsed.success) {
    throw new CliError(`--id ${workflowId}: not usable as a run id (${parsed.error.issues[0]?.message}); set runId in the config or pick another --id`, EXIT_INVALID);
  }
}

function summaryOf(runId: string, config: RunConfig): string {
  const judge = `judge ${judgeLabel(config.judge)}`;
  const source = config.rollouts.type === 'directory' ? `rollouts from ${config.rollouts.path}` : 'rollouts by update';
  return `Arbiter run ${runId}: ${config.steps} steps, ${source}, ${judge}`;
}
