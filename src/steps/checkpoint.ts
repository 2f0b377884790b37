import { createHash } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { relative } from 'node:path';
import { z } from 'zod';
import { RolloutSchema } from '../config/rollout';
import { RewardRecordSchema, type RewardRecord } from '../contract/reward-record';
import { appendDurably } from '../io/append-durably';
import { writeFileAtomic } from '../io/atomic-write';
import { AtomicJsonlWriter } from '../io/jsonl-writer';
import { readLines } from '../io/read-lines';
import { EXCERPT_CHARS, excerpt, reviewItemRef, type ReviewItem, type ReviewItemRef } from '../review/review-item';
import { ReviewPicker, type ReviewPolicy } from '../review/review-picker';
import type { RunLayout } from '../contract/run-layout';
import { describeExecution, RunDirTaken, sameExecution, type Execution } from '../contract/run-owner';
import { readBatchKey } from '../contract/batch-key';
import { readChunkIndex } from '../contract/chunk-index';
import { StepStats, type StepSummary } from './step-summary';

export interface ManifestLine {
  step: number;
  file: string;
  sha256: string;
  /** The batch key (batch-key.ts) of what was scored; absent in manifests written before it existed. */
  batch?: string;
  /** The execution that wrote the line. */
  execution?: Execution;
  summary: StepSummary;
}

export interface RunEndLine {
  end: { status: 'completed' | 'cancelled'; reason: string | undefined; stepsDone: number; totals: Record<string, number> };
}

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
  rewards: { id: string; reward: number | null; status: string; flags: string[] }[] | undefined;
  /** Facts only: this result is recorded in the run's history, and rollout text must not be. */
  reviewItems: ReviewItemRef[];
  /** `steps/NNNNNN.review.json`, where the items' prompt, response, reference and rationale are. */
  reviewFile: string;
}

const ManifestLineSchema = z.object({
  step: z.number().int(),
  file: z.string(),
  sha256: z.string(),
  batch: z.string().optional(),
  execution: z.object({ workflowId: z.string(), firstRunId: z.string() }).optional(),
  summary: z.custom<StepSummary>((v) => typeof v === 'object' && v !== null),
});

/**
 * Makes a step durable: joins the chunk results into `steps/NNNNNN.rewards.jsonl` and records
 * it in `manifest.jsonl` with its sha256, both by write-then-rename, after choosing the step's
 * review items. Running it twice for a step leaves one artifact and one manifest line and
 * returns the same result, so retries and replays are harmless.
 */
export async function writeCheckpoint(args: {
  layout: RunLayout;
  step: number;
  chunkCount: number;
  quarantined: number;
  price?: { inputPerMTok: number; outputPerMTok: number };
  returnRewards?: boolean;
  review?: ReviewPolicy;
  /** The batch key from prepareBatch; without it, the one in the step's work folder. */
  batch?: string;
  execution?: Execution;
}): Promise<CheckpointResult> {
  const { layout, step } = args;
  const { lines, torn } = await readManifestFile(layout.manifest);
  const already = lines.find((m): m is ManifestLine => 'step' in m && m.step === step);
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
    return {
      entry: already,
      file: layout.rewards(step),
      rewards: args.returnRewards ? brief(await readRecords(layout.rewards(step))) : undefined,
      reviewItems: (await readReviewItems(layout.review(step))).map(reviewItemRef),
      reviewFile: layout.review(step),
    };
  }

  // Rewards are made from this batch only: the work folder must hold it.
  const workKey = await readBatchKey(layout, step, args.batch);
  const out = new AtomicJsonlWriter(layout.rewards(step));
  const hash = createHash('sha256');
  const stats = new StepStats();
  const picker = args.review ? new ReviewPicker(args.review) : undefined;
  const inline: RewardRecord[] = [];
  const expected = (await readChunkIndex(layout, step)).reduce((n, c) => n + c[2], 0);
  // Two attempts of a chunk can overlap (the server gave up on one that was still running):
  // both append to the partial file, so a rollout may be there twice. The first one counts.
  const seen = new Set<string>();
  try {
    for (let chunk = 0; chunk < args.chunkCount; chunk++) {
      for await (const line of readLines(layout.chunkRewards(step, chunk, workKey))) {
        if ('error' in line) throw new Error(`chunk ${chunk} of step ${step} has a corrupt line ${line.lineNumber}`);
        if (!line.text) continue;
        let record: RewardRecord;
        try {
          record = RewardRecordSchema.parse(JSON.parse(line.text));
        } catch {
          continue; // torn by a crash mid-append; its rollout has a whole line elsewhere or is missing (checked below)
        }
        if (seen.has(record.id)) continue;
        seen.add(record.id);
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

  const reviewItems = picker ? await reviewItemsFor(layout, step, picker) : [];
  await writeFileAtomic(layout.review(step), JSON.stringify(reviewItems));
  const entry: ManifestLine = {
    step,
    file: relative(layout.runDir, layout.rewards(step)),
    sha256: hash.digest('hex'),
    batch: workKey,
    execution: args.execution,
    summary: stats.summary(step, args.quarantined, args.price),
  };
  const last = lines.at(-1);
  if (!torn && (last === undefined || ('step' in last && last.step < step))) {
    // The usual case, a step after the last one: append, rather than rewrite the whole manifest
    // every step (a 1,000-step run would write it 1,000 times over).
    await appendDurably(layout.manifest, JSON.stringify(entry) + '\n');
  } else {
    const others = lines.filter((m) => !('step' in m && m.step === step));
    await writeManifest(layout.manifest, [...others, entry]);
  }
  // The batch copy and partial files are only scratch once the artifact is durable.
  await rm(layout.work(step), { recursive: true, force: true });
  return {
    entry,
    file: layout.rewards(step),
    rewards: args.returnRewards ? brief(inline) : undefined,
    reviewItems: reviewItems.map(reviewItemRef),
    reviewFile: layout.review(step),
  };
}

/** The manifest's closing line; written once, replaced if the run's end is recorded again. */
export async function appendRunEnd(layout: RunLayout, end: RunEndLine['end']): Promise<void> {
  const lines = (await readManifestFile(layout.manifest)).lines.filter((l) => !('end' in l));
  await writeManifest(layout.manifest, [...lines, { end }]);
}

/** The step lines of a run's manifest, in step order. */
export async function readManifest(path: string): Promise<ManifestLine[]> {
  return (await readManifestFile(path)).lines.filter((l): l is ManifestLine => 'step' in l);
}

/** The manifest's lines; `torn` when a crash cut its last append short (that line never counted). */
async function readManifestFile(path: string): Promise<{ lines: (ManifestLine | RunEndLine)[]; torn: boolean }> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { lines: [], torn: false };
    throw err;
  }
  const torn = text.length > 0 && !text.endsWith('\n');
  const whole = torn ? text.slice(0, text.lastIndexOf('\n') + 1) : text;
  const lines = whole
    .split('\n')
    .filter((l) => l.trim())
    .map((l, i) => {
      const json = JSON.parse(l) as unknown;
      if (typeof json === 'object' && json !== null && 'end' in json) return json as RunEndLine;
      const parsed = ManifestLineSchema.safeParse(json);
      if (!parsed.success) throw new Error(`${path}:${i + 1}: not a manifest line`);
      return parsed.data;
    });
  return { lines, torn };
}

async function writeManifest(path: string, lines: (ManifestLine | RunEndLine)[]): Promise<void> {
  const steps = lines.filter((l): l is ManifestLine => 'step' in l).sort((a, b) => a.step - b.step);
  const end = lines.filter((l): l is RunEndLine => 'end' in l);
  await writeFileAtomic(path, [...steps, ...end].map((l) => JSON.stringify(l) + '\n').join(''));
}

async function reviewItemsFor(layout: RunLayout, step: number, picker: ReviewPicker): Promise<ReviewItem[]> {
  const picks = new Map(picker.picks().map((p) => [p.record.id, p]));
  if (picks.size === 0) return [];
  const items: ReviewItem[] = [];
  for await (const line of readLines(layout.batch(step))) {
    if (!('text' in line) || !line.text) continue;
    const rollout = RolloutSchema.parse(JSON.parse(line.text));
    const pick = picks.get(rollout.id);
    // The picker offers scored records only, and every scored record has a reward.
    if (!pick || pick.record.reward === null) continue;
    const judgeScore = pick.record.breakdown.judge;
    items.push({
      itemId: `s${step}-${items.length + 1}`,
      step,
      rolloutId: rollout.id,
      why: pick.why,
      prompt: excerpt(rollout.prompt, EXCERPT_CHARS.prompt),
      response: excerpt(rollout.response, EXCERPT_CHARS.response),
      reference: rollout.reference === undefined ? undefined : excerpt(rollout.reference, EXCERPT_CHARS.reference),
      reward: pick.record.reward,
      judgeScore,
      judgePass: (judgeScore ?? pick.record.reward) >= 0.5,
      rationale: excerpt(pick.record.judge.rationale, EXCERPT_CHARS.rationale),
    });
  }
  return items;
}

async function readReviewItems(path: string): Promise<ReviewItem[]> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as ReviewItem[];
  } catch {
    return [];
  }
}

async function readRecords(path: string): Promise<RewardRecord[]> {
  const text = await readFile(path, 'utf8');
  return text
    .split('\n')
    .filter((l) => l)
    .map((l) => RewardRecordSchema.parse(JSON.parse(l)));
}

function brief(records: RewardRecord[]) {
  return records.map((r) => ({ id: r.id, reward: r.reward, status: r.status, flags: r.flags }));
}

async function sha256Of(path: string): Promise<string | undefined> {
  try {
    return createHash('sha256').update(await readFile(path)).digest('hex');
  } catch {
    return undefined;
  }
}
