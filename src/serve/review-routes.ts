import { randomBytes } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { submitReviewUpdate, type ReviewAnswer } from '../../workflows/review-answer';
import { openItemsWithTexts, openReviewIds, readQueuesWithin } from '../temporal/review-queues';
import type { ReviewTurn } from '../review/review-turns';
import { HttpError, updateRefusal } from './http-error';
import { reviewPage } from './review-page';

/** The page itself carries no data: it may load without the token, and then asks for it. */
export const REVIEW_PAGE_PATH = '/review';

/** One open item as the page shows it: ids and facts, texts from the step's review file. */
export interface ReviewPageItem {
  reviewWorkflowId: string;
  runId: string;
  step: number;
  deadline: string;
  itemId: string;
  rolloutId: string;
  why: string;
  reward: number;
  judgeScore: number | null;
  judgePass: boolean;
  prompt: string | null;
  /** A multi-turn trajectory's turns before the response, one by one; null for a prompt and a response. */
  turns: ReviewTurn[] | null;
  response: string | null;
  reference: string | null;
  rationale: string | null;
  criteria: { id: string; pass: boolean; evidence: string | null }[];
  /** Why the texts are not shown, when the step's review file cannot be read here. */
  textsMissing: string | null;
}

const REVIEW_ID = '^[A-Za-z0-9][A-Za-z0-9._-]{0,199}-review(-[0-9]{1,9})?$';
const UPDATE_WAIT_MS = 30_000;
/** How long one review workflow may take to answer its items query before the page goes on without it. */
const QUERY_WAIT_MS = 5_000;


const answerBody = {
  type: 'object',
  required: ['reviewWorkflowId', 'itemId'],
  properties: {
    reviewWorkflowId: { type: 'string', pattern: REVIEW_ID },
    itemId: { type: 'string', minLength: 1, maxLength: 200 },
    // Types only: the review workflow's validator says what a valid answer is, so the page and
    // the CLI get the same messages.
    verdict: { type: 'string' },
    score: { type: 'number' },
    note: { type: 'string' },
    reviewer: { type: 'string' },
    criteria: { type: 'array', maxItems: 100, items: { type: 'object', required: ['id', 'pass'], properties: { id: { type: 'string' }, pass: { type: 'boolean' } } } },
  },
  additionalProperties: false,
} as const;

/**
 * The review page for people who are not Temporal operators: GET /review (HTML), and JSON under
 * /review/api listing open items across runs and recording answers through the review
 * workflows' `submitReview` Update, so validation and agreement tracking stay in the workflows.
 */
export function registerReviewRoutes(app: FastifyInstance, client: Client): void {
  app.get(REVIEW_PAGE_PATH, async (_request, reply) => {
    const nonce = randomBytes(16).toString('base64');
    return reply
      .header('content-type', 'text/html; charset=utf-8')
      // Nothing but this page's own script and style runs; rollout text can only ever be text.
      .header(
        'content-security-policy',
        `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; connect-src 'self'; form-action 'none'; base-uri 'none'; frame-ancestors 'none'`,
      )
      // The token may come in the address (?token=): never hand it on.
      .header('referrer-policy', 'no-referrer')
      .header('cache-control', 'no-store')
      .header('x-content-type-options', 'nosniff')
      .send(reviewPage(nonce));
  });

  app.get<{ Querystring: { run?: string } }>(
    '/review/api/items',
    { schema: { querystring: { type: 'object', properties: { run: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$' } } } } },
    async (request) => {
      const items: ReviewPageItem[] = [];
      const unreadable: { reviewWorkflowId: string; message: string }[] = [];
      const ids = await openReviewIds(client, request.query.run);
      // Asked side by side, each with its own deadline: a review whose worker is gone (its run's
      // task queue no longer polled) answers no query, and must not hold up every other run's.
      const queues = await readQueuesWithin(client, ids, QUERY_WAIT_MS);
      for (const [i, workflowId] of ids.entries()) {
        const queue = queues[i]!;
        if ('message' in queue) {
          unreadable.push({ reviewWorkflowId: workflowId, message: queue.message });
          continue;
        }
        for (const { step, items: open, missing } of await openItemsWithTexts(queue)) {
          for (const item of open) {
            items.push({
              reviewWorkflowId: workflowId,
              runId: queue.runId,
              step: step.step,
              deadline: step.deadline,
              itemId: item.itemId,
              rolloutId: item.rolloutId,
              why: item.why,
              reward: item.reward,
              judgeScore: item.judgeScore ?? null,
              judgePass: item.judgePass,
              prompt: item.prompt ?? null,
              turns: item.turns ?? null,
              response: item.response ?? null,
              reference: item.reference ?? null,
              rationale: item.rationale ?? null,
              criteria: (item.criteria ?? []).map((c) => ({ id: c.id, pass: c.pass, evidence: item.evidence?.[c.id] ?? null })),
              textsMissing: missing ?? null,
            });
          }
        }
      }
      return { items, unreadable };
    },
  );

  app.post<{ Body: ReviewAnswer & { reviewWorkflowId: string } }>('/review/api/answers', { schema: { body: answerBody } }, async (request) => {
    const { reviewWorkflowId, ...answer } = request.body;
    const handle = client.workflow.getHandle(reviewWorkflowId);
    try {
      const reply = await client.connection.withDeadline(Date.now() + UPDATE_WAIT_MS, () => handle.executeUpdate(submitReviewUpdate, { args: [answer] }));
      return { reviewWorkflowId, itemId: answer.itemId, ...reply };
    } catch (err) {
      const refusal = updateRefusal(err);
      if (refusal !== undefined) throw new HttpError(422, 'review_rejected', refusal);
      if (err instanceof WorkflowNotFoundError) {
        throw new HttpError(409, 'review_closed', `review ${reviewWorkflowId} is closed or gone: its deadline passed or every item was answered`);
      }
      throw err;
    }
  });
}
