import { NativeConnection, Worker, type ActivityInterceptorsFactory, type WorkerOptions } from '@temporalio/worker';
import * as activities from '../../activities';
import { keepAlive } from './keep-alive';
import { arbiterDataConverter } from '../temporal/payload-compression';
import { workerSettingsFromEnv, type WorkerSettings } from '../config/worker-settings';
import { WORKFLOWS_PATH } from './workflows-path';

export { WORKFLOWS_PATH };

export interface ArbiterWorkerOptions {
  connection: NativeConnection;
  namespace?: string;
  taskQueue: string;
  /** A pre-built bundle (tests build it once); otherwise the workflows are bundled here. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** Cap on chunk activities this worker runs at once. */
  maxConcurrentActivityTaskExecutions?: number;
  /** Run inside the keep-alive heartbeat (tests inject slow or failing activities here). */
  activityInterceptors?: ActivityInterceptorsFactory[];
  /** Judge endpoints and rollout folders runs may use; default from the environment (workerSettingsFromEnv). */
  settings?: WorkerSettings;
}

/** A worker that runs Arbiter's run workflow and its activities. */
export function createArbiterWorker(options: ArbiterWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace ?? 'default',
    taskQueue: options.taskQueue,
    dataConverter: arbiterDataConverter,
    ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : { workflowsPath: WORKFLOWS_PATH }),
    ...activityOptions(options),
  });
}

/**
 * A worker of a shared judge queue (judge.sharedQuota): chunks of any run on the account, at the
 * rate Temporal lets through for every such worker together; no workflows.
 */
export function createJudgeQueueWorker(options: Omit<ArbiterWorkerOptions, 'workflowBundle'>): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace ?? 'default',
    taskQueue: options.taskQueue,
    dataConverter: arbiterDataConverter,
    ...activityOptions(options),
  });
}

function activityOptions(options: Omit<ArbiterWorkerOptions, 'workflowBundle'>) {
  return {
    activities: activitiesWith(options.settings ?? workerSettingsFromEnv()),
    maxConcurrentActivityTaskExecutions: options.maxConcurrentActivityTaskExecutions ?? 16,
    interceptors: { activity: [keepAlive, ...(options.activityInterceptors ?? [])] },
  };
}

/** The activities, with the activities that read files or call judges bound to this worker's settings. */
function activitiesWith(settings: WorkerSettings): typeof activities {
  return {
    ...activities,
    awaitRollouts: (input) => activities.awaitRollouts(input, settings),
    prepareStep: (input) => activities.prepareStep(input, settings),
    prepareStoredStep: (input) => activities.prepareStoredStep(input, settings),
    admitRequests: (input) => activities.admitRequests(input, settings),
    scoreChunk: (input) => activities.scoreChunk(input, settings),
    prepareValidation: (input) => activities.prepareValidation(input, settings),
    validateUnit: (input) => activities.validateUnit(input, settings),
  };
}
