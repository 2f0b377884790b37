/**
 * A worker for `bench/memory.ts`'s `prebuilt-bundle` variant: `src/worker/main.ts` minus the
 * in-process webpack bundling. The workflow bundle is built beforehand (by the benchmark) and
 * read from ARBITER_WORKFLOW_BUNDLE, so this process never runs webpack. Otherwise the same:
 * TEMPORAL_ADDRESS, ARBITER_TASK_QUEUE, createArbiterWorker, "polling task queue" when ready.
 */
import { connectWorker, temporalSettings } from '../src/temporal/connection';
import { createArbiterWorker } from '../src/worker/create-worker';

async function main(): Promise<void> {
  const codePath = process.env.ARBITER_WORKFLOW_BUNDLE;
  if (!codePath) throw new Error('ARBITER_WORKFLOW_BUNDLE: path of a prebuilt workflow bundle (bundleWorkflowCode)');
  const settings = temporalSettings();
  const { address, namespace, taskQueue } = settings;
  const connection = await connectWorker(settings);
  try {
    const worker = await createArbiterWorker({ connection, namespace, taskQueue, workflowBundle: { codePath } });
    console.log(`arbiter bench worker (prebuilt bundle): polling task queue "${taskQueue}" on ${address} (namespace ${namespace})`);
    await worker.run();
  } finally {
    await connection.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
