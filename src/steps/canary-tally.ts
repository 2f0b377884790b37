import { z } from 'zod';
import { RewardRecordSchema } from '../contract/reward-record';
import type { RunLayout } from '../contract/run-layout';
import type { CanarySummary } from '../contract/step-summary';
import { storeFor } from '../storage/stores';
import { cohensKappa } from '../stats/kappa';
import { CanaryLabelSchema, goldPass, type CanaryLabel } from './canary-set';

/** A canary as the step's batch holds it: its id there (prefixed, unlike any rollout's) and its gold label. */
export const CanaryIndexEntrySchema = z.object({ batchId: z.string(), id: z.string(), label: CanaryLabelSchema });
export type CanaryIndexEntry = z.output<typeof CanaryIndexEntrySchema>;

export async function writeCanaryIndex(layout: RunLayout, step: number, entries: CanaryIndexEntry[]): Promise<void> {
  const path = layout.canaryIndex(step);
  await storeFor(path).write(path, JSON.stringify(entries));
}

/** The step's canaries by batch id; empty when the step has none. */
export async function readCanaryIndex(layout: RunLayout, step: number): Promise<Map<string, CanaryIndexEntry>> {
  const path = layout.canaryIndex(step);
  const text = await storeFor(path).readText(path);
  if (text === undefined) return new Map();
  return new Map(z.array(CanaryIndexEntrySchema).parse(JSON.parse(text)).map((e) => [e.batchId, e]));
}

/**
 * A line of a chunk's partial results: a reward record, and for a canary the judge's own
 * verdicts (score and criteria), which the reward record does not keep and the tally needs.
 */
export const ChunkRecordSchema = RewardRecordSchema.extend({
  canary: z.object({ score: z.number(), criteria: z.record(z.string(), z.boolean()) }).optional(),
});
export type ChunkRecord = z.output<typeof ChunkRecordSchema>;

/** One line of `steps/NNNNNN.canary.jsonl`. */
export interface CanaryResult {
  id: string;
  gold: CanaryLabel;
  goldPass: boolean;
  /** Absent when the judge failed on the item. */
  judgePass?: boolean;
  judgeScore?: number;
  judgeCriteria?: Record<string, boolean>;
  failure?: string;
}

/** A judge's pass on the whole item is a score of at least 0.5, as for review items. */
const PASS_SCORE = 0.5;

/** Sets a step's canary verdicts against their gold labels. */
export class CanaryTally {
  private readonly results: CanaryResult[] = [];
  private readonly judged: boolean[] = [];
  private readonly gold: boolean[] = [];
  private readonly criteria = new Map<string, { n: number; correct: number }>();
  private failed = 0;

  add(entry: CanaryIndexEntry, record: ChunkRecord): void {
    const label = entry.label;
    const expected = goldPass(label);
    const verdict = record.status === 'scored' ? record.canary : undefined;
    if (!verdict) {
      this.failed++;
      this.results.push({ id: entry.id, gold: label, goldPass: expected, failure: record.judge.failure?.message ?? record.status });
      return;
    }
    const labelled = Object.entries(label.criteria ?? {});
    // A gold pass on the whole item is set against the judge's score; labels per criterion only, against those criteria.
    const judgePass = label.pass !== undefined ? verdict.score >= PASS_SCORE : labelled.every(([id]) => verdict.criteria[id] === true);
    this.judged.push(judgePass);
    this.gold.push(expected);
    for (const [id, pass] of labelled) {
      const c = this.criteria.get(id) ?? { n: 0, correct: 0 };
      c.n++;
      if ((verdict.criteria[id] === true) === pass) c.correct++;
      this.criteria.set(id, c);
    }
    this.results.push({ id: entry.id, gold: label, goldPass: expected, judgePass, judgeScore: verdict.score, judgeCriteria: verdict.criteria });
  }

  summary(): CanarySummary {
    const n = this.judged.length;
    const correct = this.judged.filter((pass, i) => pass === this.gold[i]).length;
    // NaN (no canary judged, or judge and gold gave every canary the same verdict) is null here, as in the run's agreement.
    const kappa = cohensKappa(this.judged, this.gold);
    return {
      n,
      correct,
      accuracy: n === 0 ? null : round(correct / n),
      kappa: Number.isFinite(kappa) ? round(kappa) : null,
      failed: this.failed,
      criteria: Object.fromEntries([...this.criteria].sort(([a], [b]) => a.localeCompare(b))),
    };
  }

  /** Writes each canary's gold and judged verdicts, for whoever wants to know which ones the judge got wrong. */
  async write(path: string): Promise<void> {
    await storeFor(path).write(path, this.results.map((r) => JSON.stringify(r) + '\n').join(''));
  }
}

function round(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}
