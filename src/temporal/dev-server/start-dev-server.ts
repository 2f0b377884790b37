import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { connectSafely } from '../closed-connection';
import { TypedSearchAttributes } from '@temporalio/common';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { ARBITER_SEARCH_ATTRIBUTES } from '../../../workflows/search-attributes';
import { findTemporalCli } from './find-cli';
import { freePort } from './free-port';

export interface DevServerOptions {
  /** SQLite file, so the server's state survives a restart; in-memory when absent. */
  dbFilename?: string;
  port?: number;
  uiPort?: number;
  /** `KEY=VALUE` dynamic config, e.g. `limit.historyCount.suggestContinueAsNew=50`. */
  dynamicConfig?: string[];
  /** A codec server the Web UI asks to show compressed payloads (`arbiter codec-server`). */
  uiCodecEndpoint?: string;
  log?: (line: string) => void;
}

export interface DevServer {
  address: string;
  uiUrl: string;
  cliPath: string | undefined;
  stop(): Promise<void>;
}

/** How long a dev server may take to answer after it starts (a SQLite file may need a moment). */
const READY_MS = 30_000;

/**
 * Starts the official Temporal dev server (CLI `server start-dev`) with Arbiter's search
 * attributes registered, on loopback ports, and waits until it answers.
 *
 * Everything the server prints (its banner included) goes to this process's stderr: stdout is
 * what the command that started it has to say (`judge validate --json` prints a JSON document
 * there). @temporalio/testing would forward the server's stdout to ours, so the CLI found is
 * run here; its download (the last resort, when no CLI is found) still goes through it.
 */
export async function startDevServer(options: DevServerOptions = {}): Promise<DevServer> {
  const log = options.log ?? (() => {});
  const executable = await findTemporalCli(log);
  const port = options.port ?? (await freePort());
  const uiPort = options.uiPort ?? (await freePort());
  const address = `127.0.0.1:${port}`;
  const uiUrl = `http://127.0.0.1:${uiPort}`;
  const extraArgs = [
    ...(options.dynamicConfig ?? []).flatMap((kv) => ['--dynamic-config-value', kv]),
    ...(options.uiCodecEndpoint ? ['--ui-codec-endpoint', options.uiCodecEndpoint] : []),
  ];
  if (executable.type === 'cached-download') {
    const env = await TestWorkflowEnvironment.createLocal({
      server: { executable, ip: '127.0.0.1', port, ui: true, uiPort, dbFilename: options.dbFilename, searchAttributes: ARBITER_SEARCH_ATTRIBUTES, extraArgs },
    });
    return { address, uiUrl, cliPath: undefined, stop: () => env.teardown() };
  }
  const args = [
    'server',
    'start-dev',
    ...['--ip', '127.0.0.1', '--port', String(port), '--ui-port', String(uiPort), '--namespace', 'default'],
    ...['--log-format', 'pretty', '--log-level', 'warn'],
    // What @temporalio/testing sets for its dev servers: workflow updates on, no version check.
    ...['frontend.enableServerVersionCheck=false', 'frontend.enableUpdateWorkflowExecution=true', 'frontend.enableUpdateWorkflowExecutionAsyncAccepted=true'].flatMap((kv) => ['--dynamic-config-value', kv]),
    ...ARBITER_SEARCH_ATTRIBUTES.flatMap(({ name, type }) => ['--search-attribute', `${name}=${TypedSearchAttributes.toMetadataType(type)}`]),
    ...(options.dbFilename ? ['--db-filename', options.dbFilename] : []),
    ...extraArgs,
  ];
  const child = spawn(executable.path, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  for (const out of [child.stdout!, child.stderr!]) {
    out.pipe(process.stderr, { end: false });
    // The server's output alone does not keep this process alive; the exit hook below ends it.
    (out as unknown as { unref?: () => void }).unref?.();
  }
  child.unref();
  // A process that ends without stop() (a crash, an exit call) takes its server with it.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const stop = async () => {
    process.off('exit', killOnExit);
    await kill(child);
  };
  let gone: string | undefined;
  child.once('exit', (code, signal) => (gone ??= `the Temporal dev server at ${address} exited (${signal ?? `code ${code}`}) before it answered; its output is above`));
  child.once('error', (err) => (gone ??= `the Temporal dev server did not start: ${err.message}`));
  try {
    await untilServerAnswers(address, READY_MS, () => gone);
  } catch (err) {
    await stop();
    throw err;
  }
  return { address, uiUrl, cliPath: executable.path, stop };
}

/**
 * Waits until a Temporal frontend at `address` answers getSystemInfo. `gone` says, when it
 * does, why to stop waiting at once (the server's process exited).
 */
export async function untilServerAnswers(address: string, timeoutMs: number, gone: () => string | undefined = () => undefined): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const why = gone();
    if (why) throw new Error(why);
    try {
      const connection = await connectSafely({ address, connectTimeout: '1s' });
      try {
        await connection.workflowService.getSystemInfo({});
        return;
      } finally {
        await connection.close();
      }
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`no Temporal server answered at ${address} within ${timeoutMs / 1000} s: ${(err as Error).message}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Kills the server as @temporalio/testing does (SIGKILL: it stops at once, and its state is in SQLite or nowhere). */
async function kill(child: ChildProcess): Promise<void> {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  // Unreferenced, the child's exit would not keep this process waiting for it.
  child.ref();
  child.kill('SIGKILL');
  await exited;
}
