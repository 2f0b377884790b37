import { RolloutSchema } from '../config/rollout';
import type { RunLayout } from '../contract/run-layout';
import { storeFor } from '../storage/stores';
import { EXCERPT_CHARS, excerpt, type ReviewItem } from './review-item';
import type { ReviewPicker } from './review-picker';
import { reviewTurns } from './review-turns';

/** The picker's choices as review items, with excerpts of their rollouts' text from the step's batch. */
export async function reviewItemsFor(layout: RunLayout, step: number, picker: ReviewPicker): Promise<ReviewItem[]> {
  const picks = new Map(picker.picks().map((p) => [p.record.id, p]));
  if (picks.size === 0) return [];
  const items: ReviewItem[] = [];
  const batch = layout.batch(step);
  for await (const line of storeFor(batch).readLines(batch)) {
    if (!('text' in line) || !line.text) continue;
    const rollout = RolloutSchema.parse(JSON.parse(line.text));
    const pick = picks.get(rollout.id);
    // The picker offers scored records only, and every scored record has a reward.
    if (!pick || pick.record.reward === null) continue;
    const judgeScore = pick.record.breakdown.judge;
    const criteria = pick.record.judge.criteria;
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
      ...(criteria && {
        criteria: criteria.map(({ id, pass }) => ({ id, pass })),
        evidence: Object.fromEntries(criteria.map((c) => [c.id, excerpt(c.evidence, EXCERPT_CHARS.evidence)])),
      }),
      ...(rollout.messages && { turns: reviewTurns(rollout.messages) }),
    });
  }
  return items;
}

/** A step's review items as checkpointed; none when the file is missing or unreadable. */
export async function readReviewItems(path: string): Promise<ReviewItem[]> {
  try {
    const text = await storeFor(path).readText(path);
    return text === undefined ? [] : (JSON.parse(text) as ReviewItem[]);
  } catch {
    return [];
  }
}
