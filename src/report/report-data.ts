import { joinLocation as join } from '../storage/location';
import { readManifestFile, type ManifestLine, type RunEndLine } from '../contract/manifest';
import type { StepSummary } from '../contract/step-summary';
import { readStepFacts, type LengthPoint, type StepFacts } from './step-facts';
import { judgeLabel } from '../config/judge-config';

/** A step summary as the report reads it (cache token counts and canaries are optional in it). */
export type ReportStepSummary = StepSummary;

/** The run's state in words' raw material: from the run itself when Temporal answered, else from the folder. */
export interface RunHeader {
  runId: string;
  /** running, paused, completed, cancelled, failed, terminated, timed out, or unknown. */
  status: string;
  /** Where the status came from, said in the report so a reader knows how fresh it is. */
  statusSource: string;
  /** Why the run is paused, was cancelled, or failed. */
  reason?: string;
  totalSteps?: number;
  currentStep?: number;
  judgeModel?: string;
  /** The judge's provider (\`offline-heuristic\` is not an LLM and makes no model calls). */
  judgeProvider?: string;
  /** The run's judge-human agreement over all reviews, when Temporal answered. */
  agreement?: { reviews: number; accuracy: number | null; kappa: number | null };
}

/** Judge-human agreement of the reviews of one step. */
export interface StepAgreement {
  step: number;
  reviews: number;
  accuracy: number | null;
  kappa: number | null;
}

export interface StepRow {
  step: number;
  summary: ReportStepSummary;
  /** p10/p50/p90: the summary's, p10 computed from the rewards file for manifests older than it. */
  reward: { mean: number; p10: number | undefined; p50: number; p90: number };
  /** Pass rate per criterion, from the rewards file. */
  criteria: Record<string, number>;
}

export interface ReportData {
  header: RunHeader;
  runDir: string;
  steps: StepRow[];
  lengthPoints: LengthPoint[];
  /** How many scored rollouts had a length on record (the scatter may show a sample of them). */
  lengthRecords: number;
  humanAgreement: StepAgreement[];
  /** Things the reader should know about the data: a missing rewards file, unreadable lines. */
  notes: string[];
  end: RunEndLine['end'] | undefined;
}

/** Points drawn in the length scatter over the whole run: enough to see a trend, small enough to open fast. */
export const LENGTH_POINTS_BUDGET = 2500;

/** Reads a run's folder: its manifest's step summaries and, per step, what the rewards file adds. */
export async function readReportData(
  runDir: string,
  header: RunHeader,
  humanAgreement: StepAgreement[] = [],
): Promise<ReportData> {
  const { lines, torn } = await readManifestFile(join(runDir, 'manifest.jsonl'));
  const stepLines = lines.filter((l): l is ManifestLine => 'step' in l).sort((a, b) => a.step - b.step);
  const end = lines.find((l): l is RunEndLine => 'end' in l)?.end;
  const notes: string[] = [];
  if (torn) notes.push('the manifest ends in a torn line (a crash mid-append); that step is not shown');
  const perStep = Math.max(1, Math.ceil(LENGTH_POINTS_BUDGET / Math.max(1, stepLines.length)));
  const steps: StepRow[] = [];
  const lengthPoints: LengthPoint[] = [];
  let lengthRecords = 0;
  let judge: StepFacts['judge'];
  for (const line of stepLines) {
    let facts: StepFacts | undefined;
    try {
      facts = await readStepFacts(join(runDir, line.file), line.step, perStep);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      notes.push(`step ${line.step}: its rewards file ${line.file} is missing; only its summary is shown`);
    }
    if (facts && facts.unreadable > 0) notes.push(`step ${line.step}: ${facts.unreadable} lines of ${line.file} are not reward records`);
    steps.push(stepRow(line.summary as ReportStepSummary, facts));
    if (facts) {
      lengthPoints.push(...facts.lengthPoints);
      lengthRecords += facts.withLength;
      judge = facts.judge ?? judge;
    }
  }
  thin(lengthPoints, LENGTH_POINTS_BUDGET);
  if (header.judgeModel === undefined && judge !== undefined) header = { ...header, judgeModel: `${judgeLabel(judge)} (from the rewards files)` };
  if (header.judgeProvider === undefined && judge !== undefined) header = { ...header, judgeProvider: judge.provider };
  return { header, runDir, steps, lengthPoints, lengthRecords, humanAgreement, notes, end };
}

export function stepRow(summary: ReportStepSummary, facts: StepFacts | undefined): StepRow {
  const criteria: Record<string, number> = {};
  for (const [id, c] of Object.entries(facts?.criteria ?? {})) if (c.judged > 0) criteria[id] = c.passed / c.judged;
  return {
    step: summary.step,
    summary,
    reward: {
      mean: summary.reward.mean,
      p10: summary.reward.p10 ?? facts?.reward?.p10,
      p50: summary.reward.p50,
      p90: summary.reward.p90,
    },
    criteria,
  };
}

/** Keeps `max` evenly spaced points (steps stay in order, so every part of the run keeps its share). */
function thin<T>(points: T[], max: number): void {
  if (points.length <= max) return;
  const every = points.length / max;
  const kept = Array.from({ length: max }, (_, i) => points[Math.floor(i * every)]!);
  points.splice(0, points.length, ...kept);
}
