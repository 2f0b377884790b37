import { storeFor } from '../storage/stores';
import type { ReviewItem, ReviewItemRef, ReviewItemTexts } from './review-item';

type Shown = ReviewItemRef & Partial<ReviewItemTexts>;

/**
 * Gives a review's items their texts from the step's `review.json` (the workflow only holds ids
 * and facts). Items that already carry texts (reviews started before items went by reference)
 * keep them. When the file cannot be read here, `missing` says where it is and why.
 */
export async function withReviewTexts<T extends Shown>(
  items: T[],
  file: string | undefined,
): Promise<{ items: T[]; missing: string | undefined }> {
  if (file === undefined || items.every((i) => i.response !== undefined)) return { items, missing: undefined };
  let stored: ReviewItem[];
  try {
    const text = await storeFor(file).readText(file);
    if (text === undefined) return { items, missing: cannotRead(file, 'ENOENT') };
    stored = JSON.parse(text) as ReviewItem[];
  } catch (err) {
    return { items, missing: cannotRead(file, (err as NodeJS.ErrnoException).code ?? (err as Error).message) };
  }
  const byId = new Map(stored.map((s) => [s.itemId, s]));
  return {
    items: items.map((item) => {
      const s = byId.get(item.itemId);
      if (!s || item.response !== undefined) return item;
      return { ...item, prompt: s.prompt, response: s.response, reference: s.reference, rationale: s.rationale, ...(s.evidence && { evidence: s.evidence }), ...(s.turns && { turns: s.turns }) };
    }),
    missing: undefined,
  };
}

function cannotRead(file: string, why: string): string {
  return `the texts are in ${file} on the workers' filesystem, which cannot be read here (${why})`;
}
