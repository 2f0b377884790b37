import { randomUUID } from 'node:crypto';
import { Client } from '@temporalio/client';
import { connectSafely } from '../../src/temporal/closed-connection';
import { DefaultLogger, NativeConnection, Runtime, type ActivityInterceptorsFactory, type Worker } from '@temporalio/worker';
import { inject } from 'vitest';
import { createArbiterWorker } from '../../src/worker/create-worker';
import type { WorkerSettings } from '../../src/config/worker-settings';
import { testWorkerSettings } from './worker-settings';
import { arbiterDataConverter } from '../../src/temporal/payload-compression';

// Worker lifecycle chatter drowns test output; warnings and errors still show.
if (!(globalThis as { arbiterRuntimeInstalled?: boolean }).arbiterRuntimeInstalled) {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  (globalThis as { arbiterRuntimeInstalled?: boolean }).arbiterRuntimeInstalled = true;
}

export interface TemporalTestContext {
  client: Client;
  taskQueue: string;
  worker: Worker;
}

/**
 * Runs `body` with a real worker (bundled workflows, real activities) polling a fresh task
 * queue on the test dev server, and shuts the worker down afterwards.
 */
export async function withWorker<T>(
  body: (ctx: TemporalTestContext) => Promise<T>,
  options: { settings?: WorkerSettings; activityInterceptors?: ActivityInterceptorsFactory[] } = {},
): Promise<T> {
  const address = inject('temporalAddress');
  const nativeConnection = await NativeConnection.connect({ address });
  const connection = await connectSafely({ address });
  const taskQueue = `test-${randomUUID()}`;
  try {
    const worker = await createArbiterWorker({
      connection: nativeConnection,
      taskQueue,
      workflowBundle: { codePath: inject('workflowBundlePath') },
      activityInterceptors: options.activityInterceptors,
      settings: options.settings ?? testWorkerSettings(),
    });
    const client = new Client({ connection, dataConverter: arbiterDataConverter });
    return await worker.runUntil(body({ client, taskQueue, worker }));
  } finally {
    await connection.close();
    await nativeConnection.close();
  }
}

export async function clientOnly<T>(body: (client: Client) => Promise<T>): Promise<T> {
  const connection = await connectSafely({ address: inject('temporalAddress') });
  try {
    return await body(new Client({ connection, dataConverter: arbiterDataConverter }));
  } finally {
    await connection.close();
  }
}
