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
  log?: (line: string) => void;
}

export interface DevServer {
  address: string;
  uiUrl: string;
  cliPath: string | undefined;
  env: TestWorkflowEnvironment;
  stop(): Promise<void>;
}

/**
 * Starts the official Temporal dev server (CLI `server start-dev`) with Arbiter's search
 * attributes registered, on loopback ports, and waits until it answers.
 */
export async function startDevServer(options: DevServerOptions = {}): Promise<DevServer> {
  const log = options.log ?? (() => {});
  const executable = await findTemporalCli(log);
  const port = options.port ?? (await freePort());
  const uiPort = options.uiPort ?? (await freePort());
  const extraArgs = (options.dynamicConfig ?? []).flatMap((kv) => ['--dynamic-config-value', kv]);
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      executable,
      ip: '127.0.0.1',
      port,
      ui: true,
      uiPort,
      dbFilename: options.dbFilename,
      searchAttributes: ARBITER_SEARCH_ATTRIBUTES,
      extraArgs,
    },
  });
  return {
    address: `127.0.0.1:${port}`,
    uiUrl: `http://127.0.0.1:${uiPort}`,
    cliPath: executable.type === 'existing-path' ? executable.path : undefined,
    env,
    stop: () => env.teardown(),
  };
}
