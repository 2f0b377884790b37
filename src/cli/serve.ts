import { isIP } from 'node:net';
import { Command, Option } from 'commander';
import type { RunConfigInput } from '../config/run-config';
import { CHAT_TEMPLATES, type ChatTemplateName } from '../serve/chat-template';
import { buildServer, DEFAULT_BODY_LIMIT } from '../serve/server';
import { DEFAULT_BATCHING } from '../serve/server';
import { withConnectionOptions, withTemporal, type ConnectionFlags } from './connect';
import { CliError, EXIT_INVALID } from './errors';
import { loadRunConfig } from './load-config';
import { resolveLocation } from '../storage/location';

interface ServeFlags extends ConnectionFlags {
  port: string;
  host: string;
  token?: string;
  taskQueue: string;
  runConfig?: string;
  spillDir: string;
  batchWindowMs: string;
  answerTimeoutS: string;
  bodyLimit: string;
  chatTemplate: string;
  specialToken: string[];
}

/** True for addresses only this machine can reach. */
export function isLoopbackHost(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1';
}

export function serveCommand(): Command {
  return withConnectionOptions(
    new Command('serve')
      .description('HTTP reward service for trainers (native, OpenRLHF remote RM and Nova reward-Lambda shapes, each request durable work in a run) and the review page for people (/review)')
      .option('--port <n>', 'port to listen on', '8787')
      .option('--host <address>', 'address to listen on; anything but loopback needs --token', '127.0.0.1')
      .addOption(new Option('--token <secret>', 'bearer token every request must carry (required beyond loopback)').env('ARBITER_SERVE_TOKEN'))
      .addOption(new Option('--task-queue <name>', 'task queue of the workers').env('ARBITER_TASK_QUEUE').default('arbiter'))
      .option('--run-config <file>', 'start runs not yet started with this config (runId = the URL\'s run id; rollouts must be {"type": "updates"})')
      .option('--spill-dir <dir>', 'where batches over the inline limit are written (a folder, or s3://bucket/prefix); must be in the workers\' ARBITER_ALLOWED_ROLLOUT_DIRS', '.arbiter-serve')
      .option('--batch-window-ms <n>', 'how long a round of requests waits for others to join its Update to the run (rounds go one at a time per run)', String(DEFAULT_BATCHING.windowMs))
      .option('--answer-timeout-s <n>', 'longest a caller waits for its answer before a retryable 503 not_ready (set under the trainer\'s own timeout; a retry with the same key attaches)', String(DEFAULT_BATCHING.answerTimeoutMs / 1000))
      .option('--body-limit <bytes>', 'largest request body', String(DEFAULT_BODY_LIMIT))
      .addOption(
        new Option('--chat-template <name>', 'chat template of OpenRLHF\'s decoded prompts and responses (auto: recognised from the prompt)')
          .choices([...CHAT_TEMPLATES])
          .default('auto'),
      )
      .option('--special-token <token>', 'another special token to remove from OpenRLHF\'s decoded text (repeatable)', (v: string, all: string[]) => [...all, v], [] as string[]),
  ).action(async (opts: ServeFlags) => {
    const port = integer(opts.port, '--port', 0, 65535);
    if (!opts.token && !isLoopbackHost(opts.host)) {
      // Trainers train on whatever numbers come back: no one else may send or read them.
      throw new CliError(`--host ${opts.host} listens beyond this machine: set --token or ARBITER_SERVE_TOKEN`, EXIT_INVALID);
    }
    let runTemplate: RunConfigInput | undefined;
    if (opts.runConfig) {
      const { input, config } = await loadRunConfig(opts.runConfig);
      if (config.rollouts.type !== 'updates') throw new CliError(`${opts.runConfig}: rollouts.type must be "updates" for a run fed by arbiter serve`, EXIT_INVALID);
      runTemplate = input;
    }
    // Flags are checked before anything connects: a bad one is named at once.
    const batching = {
      windowMs: integer(opts.batchWindowMs, '--batch-window-ms', 0, 60_000),
      answerTimeoutMs: integer(opts.answerTimeoutS, '--answer-timeout-s', 1, 3600) * 1000,
    };
    const bodyLimit = integer(opts.bodyLimit, '--body-limit', 1024, 2 ** 31);
    await withTemporal(opts, async (t) => {
      const app = buildServer({
        client: t.client,
        taskQueue: opts.taskQueue,
        token: opts.token,
        spillDir: resolveLocation(opts.spillDir),
        runTemplate,
        batching,
        bodyLimit,
        chatTemplate: { template: opts.chatTemplate as ChatTemplateName, extraTokens: opts.specialToken },
      });
      const address = await app.listen({ port, host: opts.host });
      console.log(`arbiter serve listening on ${address} (Temporal ${t.address}, namespace ${t.namespace}, task queue ${opts.taskQueue})`);
      console.log(`review page for people: ${address}/review${opts.token ? ' (it asks for the token, or open it with ?token=...)' : ''}`);
      await new Promise<void>((done) => {
        process.once('SIGINT', done);
        process.once('SIGTERM', done);
      });
      await app.close();
    });
  });
}

function integer(value: string, flag: string, min: number, max: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new CliError(`${flag} ${value}: expected an integer in [${min}, ${max}]`, EXIT_INVALID);
  return n;
}
