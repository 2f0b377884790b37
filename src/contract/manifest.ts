import { z } from 'zod';
import type { StepSummary } from '../contract/step-summary';
import { readGrownLines } from '../io/grown-file';
import { isS3Location } from '../storage/location';
import { storeFor } from '../storage/stores';
import type { RunLayout } from './run-layout';
import type { Execution } from './run-owner';

export interface ManifestLine {
  step: number;
  file: string;
  sha256: string;
  /** The batch key (batch-key.ts) of what was scored; absent in manifests written before it existed. */
  batch?: string;
  /** The execution that wrote the line. */
  execution?: Execution;
  /** The rollouts the step was scored from; absent in manifests written before it was recorded. */
  input?: StepInput;
  summary: StepSummary;
}

/**
 * Where a step's rollouts were read from: `file` relative to the run folder when the run staged
 * it (its inbox), else as the worker saw it (a trainer's file); its size then; and whether the run
 * keeps it (`rollouts.keepInput`): what a re-judge of the step needs, and what it costs on disk.
 */
export interface StepInput {
  file: string;
  bytes: number;
  kept: boolean;
}

/** A version's first line (rejudgeRun): what version of which run, judged how, over which steps. */
export interface VersionLine {
  version: {
    name: string;
    /** The run re-judged: its id and folder. */
    run: string;
    runDir: string;
    /** judgeLabel() of the judge, and its rubric's hash and criteria (rubric mode). */
    judge: string;
    rubric: { sha256: string; criteria: string[] } | undefined;
    /** The whole scoring config: judge, rewards, fallback. */
    scoring: unknown;
    /** The steps asked for (`from`-`to`), and those of them the run had checkpointed. */
    steps: { from: number | undefined; to: number | undefined; checkpointed: number[] };
    execution: Execution;
  };
}

/** A step a version could not re-judge, and why (its rollouts are not stored, the run never scored it). */
export interface MissingLine {
  missing: { step: number; reason: string };
}

export interface RunEndLine {
  end: { status: 'completed' | 'cancelled'; reason: string | undefined; stepsDone: number; totals: Record<string, number> };
}

export type ManifestEntry = ManifestLine | RunEndLine | VersionLine | MissingLine;

const ManifestLineSchema = z.object({
  step: z.number().int(),
  file: z.string(),
  sha256: z.string(),
  batch: z.string().optional(),
  execution: z.object({ workflowId: z.string(), firstRunId: z.string() }).optional(),
  input: z.object({ file: z.string(), bytes: z.number(), kept: z.boolean() }).optional(),
  summary: z.custom<StepSummary>((v) => typeof v === 'object' && v !== null),
});

/** The step lines of a run's manifest, in step order. */
export async function readManifest(path: string): Promise<ManifestLine[]> {
  return (await readManifestFile(path)).lines.filter((l): l is ManifestLine => 'step' in l);
}

/**
 * The manifest's lines; `torn` when a crash cut its last append short (that line never counted).
 * On a filesystem only the lines appended since this process last read it are parsed
 * (io/grown-file.ts): every checkpoint reads the manifest. The lines are shared: read-only.
 */
export async function readManifestFile(path: string): Promise<{ lines: ManifestEntry[]; torn: boolean }> {
  const parse = (line: string, i: number) => parseManifestLine(path, line, i);
  if (!isS3Location(path)) {
    const read = await readGrownLines(path, parse);
    return read ? { lines: read.items, torn: read.torn } : { lines: [], torn: false };
  }
  const text = await storeFor(path).readText(path);
  if (text === undefined) return { lines: [], torn: false };
  const torn = text.length > 0 && !text.endsWith('\n');
  const whole = torn ? text.slice(0, text.lastIndexOf('\n') + 1) : text;
  const lines = whole
    .split('\n')
    .filter((l) => l.trim())
    .map(parse);
  return { lines, torn };
}

/** One manifest line, parsed (`i`: its position, for the error). */
export function parseManifestLine(path: string, line: string, i: number): ManifestEntry {
  const json = JSON.parse(line) as unknown;
  if (typeof json === 'object' && json !== null) {
    if ('end' in json) return json as RunEndLine;
    if ('version' in json) return json as VersionLine;
    if ('missing' in json) return json as MissingLine;
  }
  const parsed = ManifestLineSchema.safeParse(json);
  if (!parsed.success) throw new Error(`${path}:${i + 1}: not a manifest line`);
  return parsed.data;
}

/** Records a step's line, given the manifest as read before the step's artifact was written. */
export async function recordStepLine(path: string, current: { lines: ManifestEntry[]; torn: boolean }, entry: ManifestLine): Promise<void> {
  const last = current.lines.at(-1);
  const lastStep = last === undefined ? undefined : stepOf(last);
  if (!current.torn && (last === undefined || 'version' in last || (lastStep !== undefined && lastStep < entry.step))) {
    // The usual case, a step after the last one: append, rather than rewrite the whole manifest
    // every step (a 1,000-step run would write it 1,000 times over).
    await storeFor(path).append(path, JSON.stringify(entry) + '\n');
  } else {
    const others = current.lines.filter((m) => stepOf(m) !== entry.step);
    await writeManifest(path, [...others, entry]);
  }
}

/**
 * Starts a version's manifest with its header line, or keeps the one there (a retried activity):
 * a version folder holds one version. Steps named missing are recorded with it.
 */
export async function startVersionManifest(layout: RunLayout, header: VersionLine, missing: MissingLine[]): Promise<VersionLine> {
  const current = await readManifestFile(layout.manifest);
  const existing = current.lines.find((l): l is VersionLine => 'version' in l);
  if (existing) return existing;
  await writeManifest(layout.manifest, [header, ...missing]);
  return header;
}

/** Records why a version could not re-judge a step (replacing what was said of the step before). */
export async function recordMissingStep(layout: RunLayout, line: MissingLine): Promise<void> {
  const current = await readManifestFile(layout.manifest);
  await writeManifest(layout.manifest, [...current.lines.filter((l) => stepOf(l) !== line.missing.step), line]);
}

/** The step a line is about: a scored step's, or a missing one's. */
function stepOf(line: ManifestEntry): number | undefined {
  if ('step' in line) return line.step;
  if ('missing' in line) return line.missing.step;
  return undefined;
}

/** The manifest's closing line; written once, replaced if the run's end is recorded again. */
export async function appendRunEnd(layout: RunLayout, end: RunEndLine['end']): Promise<void> {
  const lines = (await readManifestFile(layout.manifest)).lines.filter((l) => !('end' in l));
  await writeManifest(layout.manifest, [...lines, { end }]);
}

/** A version's header first, then the steps in step order (scored or missing), then the run's end. */
async function writeManifest(path: string, lines: ManifestEntry[]): Promise<void> {
  const header = lines.filter((l): l is VersionLine => 'version' in l);
  const steps = lines.filter((l) => stepOf(l) !== undefined).sort((a, b) => stepOf(a)! - stepOf(b)!);
  const end = lines.filter((l): l is RunEndLine => 'end' in l);
  await storeFor(path).write(path, [...header, ...steps, ...end].map((l) => JSON.stringify(l) + '\n').join(''));
}
