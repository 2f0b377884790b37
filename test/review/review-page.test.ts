import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { stepRolloutFile } from '../../src/contract/run-layout';
import type { ReviewPageItem } from '../../src/serve/review-routes';
import { progressQuery } from '../../workflows/definitions';
import { rftRun } from '../../workflows/rft-run';
import { runReviewQuery } from '../../workflows/run-review';
import { withBrowser } from '../helpers/browser';
import { withService } from '../helpers/serve';
import { withWorker } from '../helpers/temporal';
import { waitFor } from '../helpers/wait-for';
import { markReady, rollout, tempDir } from '../support/fixtures';

const TOKEN = 'review-page-token-7f3a';

/** With ARBITER_SCREENSHOTS=<dir>, keeps what the page looked like, for people to see. */
async function screenshot(page: Page, name: string): Promise<void> {
  const dir = process.env.ARBITER_SCREENSHOTS;
  if (dir) await page.screenshot({ path: join(dir, `${name}.png`), fullPage: true });
}

/** Rollouts whose text looks like markup: the page must show it as text, never run or render it. */
async function writeMarkupSteps(dir: string, steps: number[]): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const step of steps) {
    const lines = Array.from({ length: 4 }, (_, i) => {
      const id = `s${step}-r${i}`;
      const base = rollout(id);
      return JSON.stringify({
        ...base,
        prompt: `${base.prompt} <script>window.__pwned = 1</script>`,
        response: `${base.response} <b>terminate</b> & <img src=x onerror="window.__pwned = 1"> [${id}]`,
      });
    });
    await writeFile(stepRolloutFile(dir, step), lines.join('\n') + '\n');
    await markReady(dir, step);
  }
}

/** Review workflows of this run, as the workflow list (visibility) shows them. */
async function reviewWorkflowsOf(client: Client, workflowId: string): Promise<string[]> {
  const ids: string[] = [];
  for await (const wf of client.workflow.list({ query: "WorkflowType IN ('runReview', 'humanReview')" })) {
    if (wf.workflowId.startsWith(`${workflowId}-`)) ids.push(wf.workflowId);
  }
  return ids;
}

describe('the review page', () => {
  it('lets a person review in a real browser: token, texts, per-criterion verdicts, validation, agreement', async () => {
    const dir = await tempDir();
    const rolloutsDir = join(dir, 'rollouts');
    await writeMarkupSteps(rolloutsDir, [1, 2]);
    const workflowId = `review-page-${Date.now()}`;
    await withWorker(async ({ client, taskQueue }) => {
      const run = await client.workflow.start(rftRun, {
        taskQueue,
        workflowId,
        // Step 3's file never comes: the run stays open to hear the reviews.
        args: [{ steps: 3, rollouts: { type: 'directory', path: rolloutsDir }, outputDir: join(dir, 'out'), review: { everySteps: 1, samples: 2 } }],
      });
      await waitFor(() => run.query(progressQuery), (p) => p.stepsDone === 2);
      expect((await run.query(progressQuery)).agreement.reviews).toBe(0);

      // Two reviewed steps, one review workflow in the list.
      const listed = await waitFor(() => reviewWorkflowsOf(client, workflowId), (ids) => ids.length > 0, 20_000);
      expect(listed).toEqual([`${workflowId}-review`]);
      const queue = await client.workflow.getHandle(`${workflowId}-review`).query(runReviewQuery);
      expect(queue.steps.map((s) => [s.step, s.items.length])).toEqual([[1, 2], [2, 2]]);

      await withService({ client, taskQueue, token: TOKEN, spillDir: join(dir, 'spill') }, async (service) => {
        // The API needs the token; the page shell does not (it asks for it).
        expect((await service.get('/review/api/items')).status).toBe(401);
        expect((await service.get('/review/api/items', { authorization: 'Bearer wrong' })).status).toBe(401);
        expect((await service.post('/review/api/answers', { reviewWorkflowId: `${workflowId}-review`, itemId: 's1-1', verdict: 'pass' }, { authorization: 'Bearer wrong' })).status).toBe(401);
        const shell = await service.get('/review');
        expect(shell.status).toBe(200);
        expect(shell.body).toContain('<h1>Human review</h1>');

        const api = await waitFor(
          () => service.get(`/review/api/items?run=${workflowId}`, { authorization: `Bearer ${TOKEN}` }),
          (r) => r.status === 200 && r.body.items.length === 4,
          20_000,
        );
        const items = api.body.items as ReviewPageItem[];
        expect(items.every((i) => i.response?.includes('<b>terminate</b>') && i.criteria.length > 0 && i.criteria.every((c) => c.evidence))).toBe(true);
        // An item the judge passed, with a criterion it passed: the reviewer will fail that criterion.
        const item = items.find((i) => i.judgePass && i.criteria.some((c) => c.pass));
        expect(item, JSON.stringify(items)).toBeDefined();
        const criterion = item!.criteria.find((c) => c.pass)!;

        await withBrowser(async (browser) => {
          const page = await browser.newPage();
          await page.goto(`${service.url}/review`);

          // No token yet: the page says so and puts the cursor in the token field.
          await page.getByText('This page needs an access token.').waitFor();
          await page.keyboard.type('not-the-token');
          await page.keyboard.press('Enter');
          await page.getByText('That token was not accepted (401)').waitFor();
          await page.getByRole('textbox', { name: /^Access token/ }).fill(TOKEN);
          await page.getByRole('button', { name: 'Continue' }).click();

          const card = page.locator(`article[data-review="${item!.reviewWorkflowId}"][data-item="${item!.itemId}"]`);
          await card.waitFor();
          // This run's four items (other tests' runs may have open reviews too).
          expect(await page.locator(`article[data-review="${workflowId}-review"]`).count()).toBe(4);
          const texts = await card.locator('.text').allTextContents();
          expect(texts).toEqual([item!.prompt, item!.response, item!.reference]);
          // Markup in rollout text stays text: nothing rendered, nothing run.
          expect(await card.locator('.text b, .text img, .text script').count()).toBe(0);
          expect(await page.evaluate(() => (globalThis as { __pwned?: number }).__pwned)).toBeUndefined();
          const judgeRow = card.getByRole('row', { name: new RegExp(`^${criterion.id}\\b`) });
          expect(await judgeRow.textContent()).toContain(criterion.evidence!);

          await screenshot(page, 'review-page-loaded');
          await page.getByLabel('Your name').fill('Dr. Ana Ortiz');
          await page.getByLabel('Your name').press('Tab');
          await card.getByRole('group', { name: `Your verdict on ${criterion.id}` }).getByLabel('Fail').check();
          const overall = card.getByRole('group', { name: 'Your overall verdict on the response' });
          // Failing a criterion makes the overall verdict a fail until the reviewer says otherwise.
          expect(await overall.getByLabel('Fail', { exact: true }).isChecked()).toBe(true);

          // A score out of range: the review workflow's validator says no, and the page shows why.
          await overall.getByLabel('Score', { exact: true }).fill('1.5');
          await card.getByRole('button', { name: 'Submit review' }).click();
          await card.getByText('Not recorded: score: a number from 0 to 1').waitFor();
          await screenshot(page, 'review-page-validation-error');

          await overall.getByLabel('Fail', { exact: true }).check();
          await card.getByLabel('Note (optional)').fill(`the response does not meet ${criterion.id}`);
          await card.getByRole('button', { name: 'Submit review' }).click();
          await card.getByText('Recorded. You disagree with the judge. 3 items are still open').waitFor();
          await screenshot(page, 'review-page-recorded');

          // A link with the token: no question asked, and the token leaves the address bar.
          const linked = await browser.newPage();
          await linked.goto(`${service.url}/review?token=${TOKEN}`);
          await linked.locator(`article[data-review="${workflowId}-review"]`).first().waitFor();
          expect(await linked.locator(`article[data-review="${workflowId}-review"]`).count()).toBe(3);
          expect(linked.url()).toBe(`${service.url}/review`);
          expect(await linked.locator('#auth').isHidden()).toBe(true);
        });

        // The run heard it: one review, disagreeing with the judge.
        const progress = await waitFor(() => run.query(progressQuery), (p) => p.agreement.reviews === 1);
        expect(progress.agreement).toMatchObject({ reviews: 1, agree: 0, accuracy: 0, matrix: { jp_hf: 1 } });
        const answered = (await client.workflow.getHandle(`${workflowId}-review`).query(runReviewQuery)).steps
          .flatMap((s) => s.items)
          .find((i) => i.itemId === item!.itemId);
        expect(answered?.answer).toMatchObject({
          verdict: 'fail',
          humanPass: false,
          reviewer: 'Dr. Ana Ortiz',
          criteria: [{ id: criterion.id, pass: false }],
        });
      });
      await run.terminate('test over');
      await client.workflow.getHandle(`${workflowId}-review`).terminate('test over');
    });
  }, 180_000);

  it('shows a tool-using trajectory as the conversation it was: who spoke, the tool calls, the final answer', async () => {
    const dir = await tempDir();
    const rolloutsDir = join(dir, 'rollouts');
    await mkdir(rolloutsDir, { recursive: true });
    // Markup in a tool's result is data like any other rollout text.
    const lines = Array.from({ length: 3 }, (_, i) =>
      JSON.stringify({
        id: `agent-${i}`,
        group: 'termination',
        reference: "30 days' written notice",
        messages: [
          { role: 'system', content: 'You are a contracts assistant. Look clauses up before you answer.' },
          { role: 'user', content: 'Can the supplier terminate without notice?' },
          { role: 'assistant', content: null, tool_calls: [{ id: `c${i}`, type: 'function', function: { name: 'clause_lookup', arguments: '{"topic": "termination"}' } }] },
          { role: 'tool', tool_call_id: `c${i}`, name: 'clause_lookup', content: "Clause 14.2: 30 days' written notice. <img src=x onerror=\"window.__pwned = 1\">" },
          { role: 'assistant', content: `No. Clause 14.2 requires 30 days' written notice (answer ${i}).` },
        ],
      }),
    );
    await writeFile(stepRolloutFile(rolloutsDir, 1), lines.join('\n') + '\n');
    await markReady(rolloutsDir, 1);
    const workflowId = `review-trajectory-${Date.now()}`;
    await withWorker(async ({ client, taskQueue }) => {
      const run = await client.workflow.start(rftRun, {
        taskQueue,
        workflowId,
        args: [{ steps: 2, rollouts: { type: 'directory', path: rolloutsDir }, outputDir: join(dir, 'out'), review: { everySteps: 1, samples: 1 } }],
      });
      await waitFor(() => run.query(progressQuery), (p) => p.stepsDone === 1);
      await withService({ client, taskQueue, token: TOKEN, spillDir: join(dir, 'spill') }, async (service) => {
        const api = await waitFor(
          () => service.get(`/review/api/items?run=${workflowId}`, { authorization: `Bearer ${TOKEN}` }),
          (r) => r.status === 200 && r.body.items.length === 1,
          20_000,
        );
        const [item] = api.body.items as ReviewPageItem[];
        expect(item!.turns?.map((t) => t.label)).toEqual(['System', 'User', 'Assistant', `Tool result from clause_lookup (call ${item!.rolloutId.replace('agent-', 'c')})`]);
        expect(item!.response).toMatch(/^No\. Clause 14\.2 requires/);

        await withBrowser(async (browser) => {
          const page = await browser.newPage();
          await page.goto(`${service.url}/review?token=${TOKEN}`);
          const card = page.locator(`article[data-review="${workflowId}-review"]`);
          await card.waitFor();
          await card.getByRole('heading', { name: 'Conversation before the answer (4 turns)' }).waitFor();
          const turns = card.locator('ol.turns > li');
          expect(await turns.count()).toBe(4);
          expect(await turns.locator('.who').allTextContents()).toEqual(item!.turns!.map((t) => t.label));
          // The assistant's tool call is shown as a call, in its own block; the tool's answer after it.
          expect(await turns.nth(2).locator('.calls').textContent()).toBe(`[calls tool clause_lookup (call ${item!.rolloutId.replace('agent-', 'c')})] {"topic": "termination"}`);
          expect(await turns.nth(3).locator('.text').textContent()).toContain('<img src=x');
          expect(await card.locator('img, script').count()).toBe(0);
          expect(await page.evaluate(() => (globalThis as { __pwned?: number }).__pwned)).toBeUndefined();
          await card.getByRole('heading', { name: 'Final answer being judged' }).waitFor();
          await screenshot(page, 'review-page-trajectory');
        });
      });
      await run.terminate('test over');
      await client.workflow.getHandle(`${workflowId}-review`).terminate('test over');
    });
  }, 180_000);
});
