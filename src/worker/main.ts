import { connectClient, connectWorker, temporalSettings, type TemporalSettings } from '../temporal/connection';
import { ensureSearchAttributes } from '../temporal/search-attributes';
import { bundleWorkflowsInChild } from './bundle-workflows';
import { createArbiterWorker, createJudgeQueueWorker } from './create-worker';
import { installMetricsRuntime, metricsAddressFromEnv } from './metrics';
import { watchJudgeQueues } from './watch-judge-queues';

/** `npm run worker`: serve the `arbiter` task queue until interrupted. */
async function main(): Promise<void> {
  const settings = temporalSettings();
  const { address, namespace, taskQueue } = settings;
  const metricsAddress = metricsAddressFromEnv();
  // Before any connection: the runtime is the process's, made once.
  if (metricsAddress) installMetricsRuntime(metricsAddress);
  const connection = await connectWorker(settings);
  try {
    await registerSearchAttributes(settings);
    const codePath = await bundleWorkflowsInChild();
    const worker = await createArbiterWorker({ connection, namespace, taskQueue, workflowBundle: { codePath } });
    const judgeWorkers = await Promise.all(settings.judgeTaskQueues.map((queue) => createJudgeQueueWorker({ connection, namespace, taskQueue: queue })));
    if (metricsAddress) console.log(`arbiter worker: Prometheus metrics on http://${metricsAddress}/metrics`);
    console.log(`arbiter worker: polling task queue "${taskQueue}" on ${address} (namespace ${namespace})`);
    for (const queue of settings.judgeTaskQueues) console.log(`arbiter worker: judging chunks from shared queue "${queue}"`);
    // Each process paces its calls at its part of a shared account: how many processes poll it, Temporal says.
    const stopWatching = watchJudgeQueues(connection, namespace, settings.judgeTaskQueues);
    // SIGINT/SIGTERM shut every worker of the process down; each run() then returns.
    try {
      await Promise.all([worker.run(), ...judgeWorkers.map((w) => w.run())]);
    } finally {
      stopWatching();
    }
  } finally {
    await connection.close();
  }
}

/** A run's search-attribute upserts fail on a server that lacks them; add them up front. */
async function registerSearchAttributes(settings: TemporalSettings): Promise<void> {
  const connection = await connectClient(settings);
  try {
    const added = await ensureSearchAttributes(connection, settings.namespace);
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
