import { describe, expect, it } from 'vitest';
import { type HumanReviewInput, humanReview, reviewItemsQuery, submitReviewUpdate } from '../../workflows/human-review-legacy';
import { withWorker } from '../helpers/temporal';

describe('humanReview input', () => {
  it('still accepts items with their texts, as runs started them before items went by reference', async () => {
    const old: HumanReviewInput = {
      parentWorkflowId: `gone-${Date.now()}`,
      runId: 'old-run',
      step: 4,
      deadlineHours: 1,
      items: [
        { itemId: 's4-1', step: 4, rolloutId: 'r1', why: 'sampled', prompt: 'p', response: 'the old response', reference: undefined, reward: 0.9, judgeScore: 0.9, judgePass: true, rationale: 'ok' },
      ],
    };
    await withWorker(async ({ client, taskQueue }) => {
      const handle = await client.workflow.start(humanReview, { taskQueue, workflowId: `old-review-${Date.now()}`, args: [old] });
      const state = await handle.query(reviewItemsQuery);
      expect(state.file).toBeUndefined();
      expect(state.items[0]).toMatchObject({ itemId: 's4-1', response: 'the old response' });
      // The parent is gone: the answer still counts here.
      expect(await handle.executeUpdate(submitReviewUpdate, { args: [{ itemId: 's4-1', verdict: 'fail' }] })).toEqual({ open: 0, agreesWithJudge: false });
      expect(await handle.result()).toMatchObject({ status: 'done', open: 0 });
    });
  });
});
