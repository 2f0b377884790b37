import { NativeConnection } from '@temporalio/worker';
import { temporalEnv } from '../temporal-env';
import { createArbiterWorker } from './create-worker';

/** `npm run worker`: serve the `arbiter` task queue until interrupted. */
async function main(): Promise<void> {
  const { address, namespace, taskQueue } = temporalEnv();
  const connection = await NativeConnection.connect({ address });
  try {
    const worker = await createArbiterWorker({ connection, namespace, taskQueue });
    console.log(`arbiter worker: polling task queue "${taskQueue}" on ${address} (namespace ${namespace})`);
    await worker.run();
  } finally {
    await connection.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
