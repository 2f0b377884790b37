import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import type { TestProject } from 'vitest/node';
import { startDevServer, type DevServer } from '../src/temporal/dev-server/start-dev-server';
import { WORKFLOWS_PATH } from '../src/worker/create-worker';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    temporalUiUrl: string;
    temporalCliPath: string;
    workflowBundlePath: string;
  }
}

let server: DevServer | undefined;

/**
 * Starts a real Temporal dev server for the whole test run (never assumes one is running)
 * and bundles the workflows once, so each test's worker starts fast.
 */
export async function setup(project: TestProject): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'arbiter-test-server-'));
  const started = Date.now();
  server = await startDevServer({
    dbFilename: join(dir, 'temporal.db'),
    log: (line) => console.log(line),
  });
  console.log(`test dev server at ${server.address} (Web UI ${server.uiUrl}), up in ${Date.now() - started} ms`);
  if (!server.cliPath) throw new Error('tests need the Temporal CLI binary itself; see scripts/temporal-server');

  const { code } = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: quietLogger });
  const bundlePath = join(dir, 'workflow-bundle.js');
  await writeFile(bundlePath, code);

  project.provide('temporalAddress', server.address);
  project.provide('temporalUiUrl', server.uiUrl);
  project.provide('temporalCliPath', server.cliPath);
  project.provide('workflowBundlePath', bundlePath);
}

export async function teardown(): Promise<void> {
  await server?.stop();
}

const quietLogger = {
  log: () => {},
  trace: () => {},
  debug: () => {},
  info: () => {},
  warn: (message: string) => console.warn(message),
  error: (message: string) => console.error(message),
};
