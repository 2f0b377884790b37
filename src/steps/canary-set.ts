import { z } from 'zod';
import { describeZodIssues } from '../config/validation-error';
import { storeFor } from '../storage/stores';
import { hashSeed, seededRandom } from '../util/seeded-random';

export const CanaryLabelSchema = z
  .object({
    /** The gold verdict on the whole response. */
    pass: z.boolean().optional(),
    /** Gold verdicts per rubric criterion id. */
    criteria: z.record(z.string(), z.boolean()).optional(),
  })
  .strict()
  .refine((l) => l.pass !== undefined || (l.criteria !== undefined && Object.keys(l.criteria).length > 0), {
    message: 'needs pass (true/false) or criteria ({"<criterion id>": true/false, ...}), or both',
  });
export type CanaryLabel = z.output<typeof CanaryLabelSchema>;

/** One line of a canary file: a rollout whose right verdict is known. Other columns are ignored. */
export const CanaryItemSchema = z.object({
  // Shorter than a rollout id: the batch gives it a prefix and must stay within the rollout limit.
  id: z.string().min(1).max(256),
  prompt: z.string(),
  response: z.string(),
  reference: z.string().optional(),
  label: CanaryLabelSchema,
});
export type CanaryItem = z.output<typeof CanaryItemSchema>;

/** A canary file that cannot be used as written; `issues` name the line of each fault. */
export class CanaryFileError extends Error {
  override name = 'CanaryFileError';
  constructor(
    readonly file: string,
    readonly issues: string[],
  ) {
    super(`canary.file ${file} is not usable:\n  ${issues.join('\n  ')}`);
  }
}

const MAX_ISSUES = 20;

/**
 * Reads and checks a canary file: every line a gold item, ids unique, criteria (when the judge's
 * rubric is known) ones the judge is asked about. Unlike a step's rollouts, a bad line is not
 * skipped: the gold set is the yardstick of the judge, and a silently shorter one measures less.
 */
export async function loadCanarySet(file: string, options: { criterionIds?: readonly string[] } = {}): Promise<CanaryItem[]> {
  const issues: string[] = [];
  const items: CanaryItem[] = [];
  const seen = new Set<string>();
  const known = options.criterionIds ? new Set(options.criterionIds) : undefined;
  for await (const raw of storeFor(file).readLines(file)) {
    if (issues.length >= MAX_ISSUES) break;
    const at = `line ${raw.lineNumber}`;
    if ('error' in raw) {
      issues.push(`${at}: ${raw.error === 'too-long' ? `longer than the line limit (${raw.byteLength} bytes)` : 'invalid UTF-8'}`);
      continue;
    }
    if (raw.text.trim() === '') continue;
    let json: unknown;
    try {
      json = JSON.parse(raw.text);
    } catch (err) {
      issues.push(`${at}: broken JSON: ${(err as Error).message}`);
      continue;
    }
    const parsed = CanaryItemSchema.safeParse(json);
    if (!parsed.success) {
      issues.push(...describeZodIssues(parsed.error).map((issue) => `${at}: ${issue}`));
      continue;
    }
    const item = parsed.data;
    if (seen.has(item.id)) {
      issues.push(`${at}: id: duplicate id ${JSON.stringify(item.id)}`);
      continue;
    }
    seen.add(item.id);
    const unknown = known ? Object.keys(item.label.criteria ?? {}).filter((id) => !known.has(id)) : [];
    if (unknown.length > 0) {
      issues.push(
        `${at}: label.criteria: ${unknown.map((id) => JSON.stringify(id)).join(', ')} not in the judge's rubric (${[...known!].join(', ')})`,
      );
      continue;
    }
    items.push(item);
  }
  if (issues.length === 0 && items.length === 0) issues.push('holds no canary item');
  if (issues.length > 0) throw new CanaryFileError(file, issues);
  return items;
}

/** The gold verdict on the whole item: its `pass`, or else whether every labelled criterion passes. */
export function goldPass(label: CanaryLabel): boolean {
  return label.pass ?? Object.values(label.criteria ?? {}).every(Boolean);
}

/**
 * The canaries of one step: `perStep` items chosen by the step number alone, so a retried or
 * replayed step gets the same ones and two runs on one file compare like with like. Half pass
 * and half fail where the file allows: a judge that passes (or fails) everything then scores
 * about 50 %, well under any sensible floor, instead of hiding behind a lopsided sample.
 */
export function pickCanaries<T extends { label: CanaryLabel }>(items: readonly T[], perStep: number, step: number): T[] {
  const random = seededRandom(hashSeed(`canaries:${step}`));
  const shuffle = <U>(xs: readonly U[]): U[] => {
    const out = [...xs];
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [out[i], out[j]] = [out[j]!, out[i]!];
    }
    return out;
  };
  if (items.length <= perStep) return shuffle(items);
  const passing = shuffle(items.filter((i) => goldPass(i.label)));
  const failing = shuffle(items.filter((i) => !goldPass(i.label)));
  const wantPassing = Math.min(passing.length, Math.max(perStep - failing.length, Math.ceil(perStep / 2)));
  return shuffle([...passing.slice(0, wantPassing), ...failing.slice(0, perStep - wantPassing)]);
}
