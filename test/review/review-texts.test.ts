import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ReviewItem, ReviewItemRef } from '../../src/review/review-item';
import { withReviewTexts } from '../../src/review/review-texts';
import { tempDir } from '../support/fixtures';

const ref: ReviewItemRef = { itemId: 's1-1', step: 1, rolloutId: 'r1', why: 'sampled', reward: 0.8, judgeScore: 0.8, judgePass: true };
const stored: ReviewItem = { ...ref, prompt: 'the prompt', response: 'the response', reference: 'the reference', rationale: 'why' };

describe('withReviewTexts', () => {
  it("fills an item's texts from the step's review file", async () => {
    const file = join(await tempDir(), '000001.review.json');
    await writeFile(file, JSON.stringify([stored]));
    const { items, missing } = await withReviewTexts([ref], file);
    expect(missing).toBeUndefined();
    expect(items).toEqual([stored]);
  });

  it('says where the texts are when the file cannot be read here', async () => {
    const file = join(await tempDir(), 'elsewhere', '000001.review.json');
    const { items, missing } = await withReviewTexts([ref], file);
    expect(items).toEqual([ref]);
    expect(missing).toContain(file);
    expect(missing).toContain('ENOENT');
  });

  it('keeps the texts of items that carry them (reviews started before items went by reference)', async () => {
    const { items, missing } = await withReviewTexts([stored], undefined);
    expect({ items, missing }).toEqual({ items: [stored], missing: undefined });
  });
});
