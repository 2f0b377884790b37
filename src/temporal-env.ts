/** Where to find Temporal: the variables the Temporal CLI and samples use, with local defaults. */
export function temporalEnv(env: NodeJS.ProcessEnv = process.env) {
  return {
    address: env.TEMPORAL_ADDRESS ?? 'localhost:7233',
    namespace: env.TEMPORAL_NAMESPACE ?? 'default',
    taskQueue: env.ARBITER_TASK_QUEUE ?? 'arbiter',
  };
}
