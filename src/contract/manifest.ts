import { z } from 'zod';
import type { StepSummary } from '../contract/step-summary';
import { appendDurably } from '../io/append-durably';
import { writeFileAtomic } from '../io/atomic-write';
import { readTextIfExists } from '../io/read-if-exists';
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
  summary: StepSummary;
}

export interface RunEndLine {
  end: { status: 'completed' | 'cancelled'; reason: string | undefined; stepsDone: number; totals: Record<string, number> };
}

export type ManifestEntry = ManifestLine | RunEndLine;

const ManifestLineSchema = z.object({
  step: z.number().int(),
  file: z.string(),
  sha256: z.string(),
  batch: z.string().optional(),
  execution: z.object({ workflowId: z.string(), firstRunId: z.string() }).optional(),
  summary: z.custom<StepSummary>((v) => typeof v === 'object' && v !== null),
});

/** The step lines of a run's manifest, in step order. */
export async function readManifest(path: string): Promise<ManifestLine[]> {
  return (await readManifestFile(path)).lines.filter((l): l is ManifestLine => 'step' in l);
}

/** The manifest's lines; `torn` when a crash cut its last append short (that line never counted). */
export async function readManifestFile(path: string): Promise<{ lines: ManifestEntry[]; torn: boolean }> {
  const text = await readTextIfExists(path);
  if (text === undefined) return { lines: [], torn: false };
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

/** Records a step's line, given the manifest as read before the step's artifact was written. */
export async function recordStepLine(path: string, current: { lines: ManifestEntry[]; torn: boolean }, entry: ManifestLine): Promise<void> {
  const last = current.lines.at(-1);
  if (!current.torn && (last === undefined || ('step' in last && last.step < entry.step))) {
    // The usual case, a step after the last one: append, rather than rewrite the whole manifest
    // every step (a 1,000-step run would write it 1,000 times over).
    await appendDurably(path, JSON.stringify(entry) + '\n');
  } else {
    const others = current.lines.filter((m) => !('step' in m && m.step === entry.step));
    await writeManifest(path, [...others, entry]);
  }
}

/** The manifest's closing line; written once, replaced if the run's end is recorded again. */
export async function appendRunEnd(layout: RunLayout, end: RunEndLine['end']): Promise<void> {
  const lines = (await readManifestFile(layout.manifest)).lines.filter((l) => !('end' in l));
  await writeManifest(layout.manifest, [...lines, { end }]);
}

async function writeManifest(path: string, lines: ManifestEntry[]): Promise<void> {
  const steps = lines.filter((l): l is ManifestLine => 'step' in l).sort((a, b) => a.step - b.step);
  const end = lines.filter((l): l is RunEndLine => 'end' in l);
  await writeFileAtomic(path, [...steps, ...end].map((l) => JSON.stringify(l) + '\n').join(''));
}
