import { Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { ensureSearchAttributes } from '../search-attributes';
import { temporalEnv } from '../../temporal-env';
import { bundleWorkflowsInChild } from './bundle-workflows';
import { createArbiterWorker } from './create-worker';

/** `npm run worker`: serve the `arbiter` task queue until interrupted. */
async function main(): Promise<void> {
  const { address, namespace, taskQueue } = temporalEnv();
  const connection = await NativeConnection.connect({ address });
  try {
    await registerSearchAttributes(address, namespace);
    const codePath = await bundleWorkflowsInChild();
    const worker = await createArbiterWorker({ connection, namespace, taskQueue, workflowBundle: { codePath } });
    console.log(`arbiter worker: polling task queue "${taskQueue}" on ${address} (namespace ${namespace})`);
    await worker.run();
  } finally {
    await connection.close();
  }
}

/** A run's search-attribute upserts fail on a server that lacks them; add them up front. */
async function registerSearchAttributes(address: string, namespace: string): Promise<void> {
  const connection = await Connection.connect({ address });
  try {
    const added = await ensureSearchAttributes(connection, namespace);
    if (added.length) console.log(`registered search attributes: ${added.join(', ')}`);
  } catch (err) {
    console.warn(`could not check search attributes (${(err as Error).message}); run \`npx arbiter setup\` with operator rights`);
  } finally {
    await connection.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
