import { z } from 'zod';
import { describeZodIssues } from '../config/validation-error';
import { readStoredText } from '../storage/read-text';

/** Ordinal human scores are on this 1..5 scale; judge scores (0..1) are mapped onto it. */
export const ORDINAL_CATEGORIES = [1, 2, 3, 4, 5];

/** One person's labels of one item. */
const LabelsSchema = z
  .object({
    /** Overall pass/fail of the response. */
    pass: z.boolean().optional(),
    /** Pass/fail per rubric criterion id. */
    criteria: z.record(z.string(), z.boolean()).optional(),
    /** Ordinal quality score, 1 (worst) to 5 (best). */
    score: z.number().int().min(1).max(5).optional(),
  })
  .strict();

/**
 * One line of a validation dataset: a response to judge and, optionally, what people and
 * production said about it. Every label is optional: each metric uses the items that have
 * what it needs, and says how many that was.
 */
export const ValidationItemSchema = z
  .object({
    id: z.string().min(1).max(512),
    prompt: z.string(),
    response: z.string(),
    reference: z.string().optional(),
    /** The adjudicated human label (the one the judge is compared with). */
    human: LabelsSchema.optional(),
    /** Labels of individual people, for Krippendorff's α and the human–human ceiling. */
    labellers: z.array(LabelsSchema.extend({ labeller: z.string().min(1).max(128) }).strict()).max(50).optional(),
    /** A gold quality score in [0, 1], on the judge's scale (mean offset is judge − gold). */
    gold: z.number().min(0).max(1).optional(),
    /** Production metrics of this response (any scale): only rank correlations are reported. */
    metrics: z.record(z.string(), z.number().finite()).optional(),
    /** A second response to the same prompt, for preference mode; `preferred` is the human's pick. */
    pair: z
      .object({ response: z.string(), preferred: z.enum(['first', 'second', 'tie']).optional() })
      .strict()
      .optional(),
  })
  .strict();

export type ValidationItem = z.output<typeof ValidationItemSchema>;
export type Labels = z.output<typeof LabelsSchema>;

/** Reads a dataset JSONL; a bad line is named by number and field. */
export function parseDataset(text: string, name: string): ValidationItem[] {
  const items: ValidationItem[] = [];
  const ids = new Set<string>();
  const problems: string[] = [];
  text.split('\n').forEach((line, index) => {
    if (line.trim() === '') return;
    const where = `${name} line ${index + 1}`;
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch (err) {
      problems.push(`${where}: not JSON (${(err as Error).message})`);
      return;
    }
    const parsed = ValidationItemSchema.safeParse(raw);
    if (!parsed.success) {
      for (const issue of describeZodIssues(parsed.error)) problems.push(`${where}: ${issue}`);
      return;
    }
    if (ids.has(parsed.data.id)) problems.push(`${where}: duplicate id ${JSON.stringify(parsed.data.id)}`);
    ids.add(parsed.data.id);
    items.push(parsed.data);
  });
  if (problems.length > 0) throw new DatasetError(problems.slice(0, 20).concat(problems.length > 20 ? [`… and ${problems.length - 20} more`] : []));
  if (items.length === 0) throw new DatasetError([`${name}: no items`]);
  return items;
}

export async function readDataset(path: string): Promise<ValidationItem[]> {
  return parseDataset(await readStoredText(path), path);
}

export class DatasetError extends Error {
  override name = 'DatasetError';
  constructor(readonly issues: string[]) {
    super(`invalid validation dataset:\n  ${issues.join('\n  ')}`);
  }
}
