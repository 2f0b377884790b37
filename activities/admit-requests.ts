import { ApplicationFailure } from '@temporalio/activity';
import { admitAll, type Admission, type ToAdmit } from '../src/contract/request-ledger';
import type { Execution } from '../src/contract/run-owner';
import type { TrainerRequest } from '../src/contract/trainer-requests';
import { checkRolloutFile, workerSettingsFromEnv, WorkerSettingsRefusal, type WorkerSettings } from '../src/config/worker-settings';
import { storeFor } from '../src/storage/stores';
import { ownedRunDir } from './owned-run-dir';

export interface AdmitRequestsInput {
  outputDir: string;
  runId: string;
  execution: Execution;
  requests: TrainerRequest[];
  /** Keys only to be looked up in the ledger, never recorded (pinned to a step the run has passed). */
  lookupOnly?: string[];
}

/**
 * Records trainer requests in the run's ledger, or finds them there (request-ledger.ts): each
 * answered as new, known (with its step and, once checkpointed, its rewards) or a conflict.
 */
export async function admitRequests(input: AdmitRequestsInput, settings: WorkerSettings = workerSettingsFromEnv()): Promise<Admission[]> {
  const layout = await ownedRunDir(input.outputDir, input.runId, input.execution);
  const lookupOnly = new Set(input.lookupOnly ?? []);
  const items: ToAdmit[] = [];
  for (const request of input.requests) {
    const lookup = lookupOnly.has(request.key);
    const rollouts = lookup ? [] : (request.rollouts ?? (await readRequestFile(request.path!, settings)));
    items.push({ request, rollouts, lookupOnly: lookup });
  }
  return admitAll(layout, items);
}

async function readRequestFile(path: string, settings: WorkerSettings): Promise<unknown[]> {
  let text: string | undefined;
  try {
    const file = await checkRolloutFile(path, settings.allowedRolloutDirs);
    text = await storeFor(file).readText(file);
  } catch (err) {
    if (err instanceof WorkerSettingsRefusal) throw ApplicationFailure.nonRetryable(err.message, err.name);
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (text === undefined) throw ApplicationFailure.nonRetryable(`request file ${path} not found`, 'RolloutsMissing');
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line, i) => {
      try {
        return JSON.parse(line) as unknown;
      } catch {
        return { brokenJsonAtLine: i + 1 };
      }
    });
}
