import type { TokenPrice } from '../config/prompt-cache-support';
import { createHash } from 'node:crypto';
import { relative } from 'node:path';
import { readBatchKey } from '../contract/batch-key';
import { readChunkIndex } from '../contract/chunk-index';
import { readManifestFile, recordStepLine, type ManifestLine } from '../contract/manifest';
import { briefReward, RewardRecordSchema, type BriefReward, type RewardRecord } from '../contract/reward-record';
import type { RunLayout } from '../contract/run-layout';
import { describeExecution, RunDirTaken, sameExecution, type Execution } from '../contract/run-owner';
import { reviewItemRef, type ReviewItemRef } from '../review/review-item';
import { readReviewItems, reviewItemsFor } from '../review/review-items-for';
import { ReviewPicker, type ReviewPolicy } from '../review/review-picker';
import { readStoredText } from '../storage/read-text';
import { storeFor } from '../storage/stores';
import { StepStats } from './step-summary';
import { CanaryTally, ChunkRecordSchema, readCanaryIndex, type ChunkRecord } from './canary-tally';
import { dropStagedInput, stepInputOf } from './stored-input';

/** A line lost to overlapping chunk attempts and a crash: the chunks must run again (they resume). */
export class ChunkResultsIncomplete extends Error {
  override name = 'ChunkResultsIncomplete';
  constructor(step: number, found: number, expected: number) {
    super(`step ${step}: chunk results cover ${found} of ${expected} rollouts`);
  }
}

export interface CheckpointResult {
  entry: ManifestLine;
  /** The artifact's path as the workers see it. */
  file: string;
  rewards: BriefReward[] | undefined;
  /** Facts only: this result is recorded in the run's history, and rollout text must not be. */
  reviewItems: ReviewItemRef[];
  /** `steps/NNNNNN.review.json`, where the items' prompt, response, reference and rationale are. */
  reviewFile: string;
}

/**
 * Makes a step durable: joins the chunk results into `steps/NNNNNN.rewards.jsonl` and records
 * it in `manifest.jsonl` with its sha256, each seen whole or not at all, after choosing the step's
 * review items. Running it twice for a step leaves one artifact and one manifest line and
 * returns the same result, so retries and replays are harmless.
 */
export async function writeCheckpoint(args: {
  layout: RunLayout;
  step: number;
  chunkCount: number;
  quarantined: number;
  price?: TokenPrice;
  returnRewards?: boolean;
  review?: ReviewPolicy;
  /** The batch key from prepareBatch; without it, the one in the step's work folder. */
  batch?: string;
  /** The file the step's rollouts were read from, recorded in its manifest line; `keep: false` deletes it once checkpointed if the run staged it. */
  input?: { file: string; keep: boolean };
  execution?: Execution;
  /** Called once when this call wrote the step's line (not when a retry found it written). */
  onWritten?: (entry: ManifestLine) => void;
}): Promise<CheckpointResult> {
  const { layout, step } = args;
  const store = storeFor(layout.runDir);
  const manifest = await readManifestFile(layout.manifest);
  const already = manifest.lines.find((m): m is ManifestLine => 'step' in m && m.step === step);
  const key = args.batch ?? (await readBatchKey(layout, step).catch(() => undefined));
  if (already && args.execution && !sameExecution(already.execution, args.execution)) {
    // Another run's line (or one from before lines named their run): neither reuse nor overwrite it.
    const writer = already.execution ? describeExecution(already.execution) : 'a run that did not record its id';
    throw new RunDirTaken(
      `${layout.manifest}: step ${step} was checkpointed by ${writer}, not by this ${describeExecution(args.execution)}: ` +
        'give this run another id (arbiter run start --id / runId) or move that folder away',
    );
  }
  const sameBatch = already !== undefined && (key === undefined || already.batch === key);
  if (already && sameBatch && (await sha256Of(layout.rewards(step))) === already.sha256) {
    if (args.input && !args.input.keep) await dropStagedInput(layout, args.input.file);
    return {
      entry: already,
      file: layout.rewards(step),
      rewards: args.returnRewards ? (await readRecords(layout.rewards(step))).map(briefReward) : undefined,
      reviewItems: (await readReviewItems(layout.review(step))).map(reviewItemRef),
      reviewFile: layout.review(step),
    };
  }

  // Rewards are made from this batch only: the work folder must hold it.
  const workKey = await readBatchKey(layout, step, args.batch);
  const out = store.jsonlWriter(layout.rewards(step));
  const hash = createHash('sha256');
  const stats = new StepStats();
  const picker = args.review ? new ReviewPicker(args.review) : undefined;
  const inline: RewardRecord[] = [];
  const expected = (await readChunkIndex(layout, step)).reduce((n, c) => n + c[2], 0);
  const canaries = await readCanaryIndex(layout, step);
  const tally = canaries.size > 0 ? new CanaryTally() : undefined;
  // Two attempts of a chunk can overlap (the server gave up on one that was still running):
  // both append to the partial file, so a rollout may be there twice. The first one counts.
  const seen = new Set<string>();
  try {
    for (let chunk = 0; chunk < args.chunkCount; chunk++) {
      for await (const line of store.readLines(layout.chunkRewards(step, chunk, workKey))) {
        if ('error' in line) throw new Error(`chunk ${chunk} of step ${step} has a corrupt line ${line.lineNumber}`);
        if (!line.text) continue;
        let chunkRecord: ChunkRecord;
        try {
          chunkRecord = ChunkRecordSchema.parse(JSON.parse(line.text));
        } catch {
          continue; // torn by a crash mid-append; its rollout has a whole line elsewhere or is missing (checked below)
        }
        // A canary's own verdicts stay out of the reward record: the artifact is as without canaries.
        const { canary: _verdicts, ...record } = chunkRecord;
        if (seen.has(record.id)) continue;
        seen.add(record.id);
        const canary = canaries.get(record.id);
        if (canary) {
          // Judged with the step and paid for, but no trainer's: not in the rewards, their statistics, review or reply.
          tally!.add(canary, chunkRecord);
          stats.addCost(record);
          continue;
        }
        stats.add(record);
        picker?.offer(record);
        if (args.returnRewards) inline.push(record);
        hash.update(JSON.stringify(record) + '\n');
        await out.write(record);
      }
    }
    if (seen.size !== expected) throw new ChunkResultsIncomplete(step, seen.size, expected);
    await out.commit();
  } catch (err) {
    await out.abort();
    throw err;
  }

  if (tally) await tally.write(layout.canaryResults(step));
  const reviewItems = picker ? await reviewItemsFor(layout, step, picker) : [];
  await store.write(layout.review(step), JSON.stringify(reviewItems));
  const entry: ManifestLine = {
    step,
    file: relative(layout.runDir, layout.rewards(step)),
    sha256: hash.digest('hex'),
    batch: workKey,
    execution: args.execution,
    ...(args.input && { input: await stepInputOf(layout, args.input.file, args.input.keep).catch(() => undefined) }),
    summary: { ...stats.summary(step, args.quarantined, args.price), ...(tally && { canary: tally.summary() }) },
  };
  await recordStepLine(layout.manifest, manifest, entry);
  args.onWritten?.(entry);
  await discardScratch(layout, step);
  if (args.input && !args.input.keep) await dropStagedInput(layout, args.input.file);
  return {
    entry,
    file: layout.rewards(step),
    rewards: args.returnRewards ? inline.map(briefReward) : undefined,
    reviewItems: reviewItems.map(reviewItemRef),
    reviewFile: layout.review(step),
  };
}

/** The batch copy and partial files are only scratch once the artifact is durable. */
async function discardScratch(layout: RunLayout, step: number): Promise<void> {
  await storeFor(layout.runDir).removeTree(layout.work(step));
}

async function readRecords(path: string): Promise<RewardRecord[]> {
  const text = await readStoredText(path);
  return text
    .split('\n')
    .filter((l) => l)
    .map((l) => RewardRecordSchema.parse(JSON.parse(l)));
}

async function sha256Of(path: string): Promise<string | undefined> {
  const hash = createHash('sha256');
  try {
    for await (const chunk of storeFor(path).bytes(path)) hash.update(chunk);
  } catch {
    return undefined;
  }
  return hash.digest('hex');
}
