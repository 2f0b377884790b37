import { joinLocation as join } from '../storage/location';
import { stepInboxName, stepNumber, stepReadyName, stepResultName, stepRolloutName } from './step-file-names';

/**
 * Where a run's files live: a folder or an `s3://bucket/prefix` (src/storage/location.ts). Every
 * path of the on-disk contract is spelled here and only here.
 */
export class RunLayout {
  constructor(readonly runDir: string) {}

  static of(outputDir: string, runId: string): RunLayout {
    return new RunLayout(join(outputDir, runId));
  }

  /** Which execution writes here (see run-owner.ts): another one must not. */
  get owner(): string {
    return join(this.runDir, 'owner.json');
  }
  get manifest(): string {
    return join(this.runDir, 'manifest.jsonl');
  }
  /** The run's re-judged versions (rejudgeRun): each a folder laid out exactly as a run folder. */
  get versionsDir(): string {
    return join(this.runDir, 'versions');
  }
  /** One version of the run's rewards: `rewards(step)`, `manifest` and the rest, under `versions/<name>/`. */
  version(name: string): RunLayout {
    return new RunLayout(versionDir(this.runDir, name));
  }
  rewards(step: number): string {
    return join(this.runDir, 'steps', stepResultName.rewards(step));
  }
  quarantine(step: number): string {
    return join(this.runDir, 'steps', stepResultName.quarantine(step));
  }
  /** What the run staged as its steps' rollout files: inline submissions and assembled requests. */
  get inboxDir(): string {
    return join(this.runDir, 'inbox');
  }
  /** Rollouts a trainer sent inline with submitRollouts, staged as a step file. */
  inbox(step: number): string {
    return join(this.inboxDir, stepInboxName.submitted(step));
  }
  /** The ledger of trainer requests the run accepted (request-ledger.ts): a record and staged rollouts per key. */
  get requestsDir(): string {
    return join(this.runDir, 'requests');
  }
  /** A key's claim: a hard link to a file naming the batch that holds its record (before: a symlink whose target named the content's hash and the batch). */
  requestClaim(keyId: string): string {
    return join(this.requestsDir, `${keyId}.claim`);
  }
  /** The step a key's rollouts went into: a hard link to a file holding the step number (before: a symlink to it). */
  requestPlacement(keyId: string): string {
    return join(this.requestsDir, `${keyId}.step`);
  }
  /** The records and staged rollouts of the requests admitted together, one line each. */
  requestBatch(name: string): string {
    return join(this.requestsDir, 'batches', `${name}.jsonl`);
  }
  /** A key's record as ledgers before batches kept it (read for runs that began then). */
  requestRecord(keyId: string): string {
    return join(this.requestsDir, `${keyId}.json`);
  }
  /** A key's staged rollouts as ledgers before batches kept them. */
  requestRollouts(keyId: string): string {
    return join(this.requestsDir, `${keyId}.rollouts.jsonl`);
  }
  /** A step the run assembled from trainer requests: their staged rollouts, one after the other. */
  requestsInbox(step: number): string {
    return join(this.inboxDir, stepInboxName.requests(step));
  }
  /** Rollouts a trainer sent inline with submitRollouts for an explicit step, staged under the update's own name. */
  inboxOf(step: number, tag: string): string {
    return join(this.inboxDir, stepInboxName.submitted(step, tag));
  }
  review(step: number): string {
    return join(this.runDir, 'steps', stepResultName.review(step));
  }
  /** Each canary of the step: the gold label beside the judge's verdict (canary-tally.ts). */
  canaryResults(step: number): string {
    return join(this.runDir, 'steps', stepResultName.canary(step));
  }
  /** Scratch space of a step in progress: the validated batch, its chunk index, partial results. */
  work(step: number): string {
    return join(this.runDir, 'work', stepNumber(step));
  }
  batch(step: number): string {
    return join(this.work(step), 'rollouts.jsonl');
  }
  chunkIndex(step: number): string {
    return join(this.work(step), 'chunks.json');
  }
  /** The canaries mixed into the step's batch: their ids there and their gold labels. */
  canaryIndex(step: number): string {
    return join(this.work(step), 'canaries.json');
  }
  /** Names the batch now in the work folder and the scoring config it is judged with. */
  batchKey(step: number): string {
    return join(this.work(step), 'batch.key');
  }
  /**
   * A chunk's partial results, named for the batch they score: an attempt working on another
   * batch (an earlier preparation of the step) can neither resume from nor append to them.
   */
  chunkRewards(step: number, chunk: number, batchKey: string): string {
    return join(this.work(step), `chunk-${String(chunk).padStart(5, '0')}.${batchKey.slice(0, 16)}.rewards.jsonl`);
  }
}

/** `<runDir>/versions/<version>`: where a re-judged version of the run is written (read it with `new RunLayout(...)`). */
export function versionDir(runDir: string, version: string): string {
  return join(runDir, 'versions', version);
}

/** The trainer's file for a step, in a directory rollout source. */
export function stepRolloutFile(dir: string, step: number): string {
  return join(dir, stepRolloutName(step));
}

/**
 * The marker a trainer creates once the step's file is closed: until it exists the step file is
 * not read, however complete it looks. It may hold the file's line count, which is then checked.
 */
export function stepReadyFile(dir: string, step: number): string {
  return join(dir, stepReadyName(step));
}
