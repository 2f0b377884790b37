// The same with the Temporal CLI (one review workflow per run, `<run>-review`; runs started
// before it have one per reviewed step, `<run>-review-<step>`, of type humanReview):
//   temporal workflow list --query "WorkflowType IN ('runReview', 'humanReview') AND ExecutionStatus = 'Running'"
//   temporal workflow query --workflow-id run-42-review --type items
//   temporal workflow update execute --workflow-id run-42-review --name submitReview \
//     --input '{"itemId":"s3-1","verdict":"pass","note":"fine","reviewer":"ana"}'
import { userInfo } from 'node:os';
import { WorkflowNotFoundError, WorkflowUpdateRPCTimeoutOrCancelledError } from '@temporalio/client';
import { Command } from 'commander';
import { submitReviewUpdate, type ReviewAnswer } from '../../workflows/review-answer';
import { runReviewWorkflowId } from '../../workflows/run-review';
import { openItemsWithTexts, openReviewIds, readQueue, readQueuesWithin, type ReviewQueue } from '../temporal/review-queues';
import { withConnectionOptions, withTemporal, type ConnectionFlags, type Temporal } from './connect';
import { CliError, EXIT_INVALID } from './errors';
import { isUnreachable, rootMessage, updateRejection } from '../temporal/client-errors';
import { withReviewTexts } from '../review/review-texts';
import { itemDetails, itemListLine, queueHeader, stepHeader } from './format-review';

const QUERY_TIMEOUT_MS = 10_000;
const UPDATE_WAIT_SECONDS = 30;

export function reviewCommand(): Command {
  const review = new Command('review').description("answer human-review requests (one review workflow per run, `<run>-review`)");

  withConnectionOptions(
    review
      .command('list')
      .description('list open reviews and their unanswered items')
      .option('--run <workflowId>', "only this run's reviews"),
  ).action(async (opts: ConnectionFlags & { run?: string }) => {
    await withTemporal(opts, async (t) => {
      // Visibility is eventually consistent: a review started a moment ago may not be listed yet.
      const ids = await openReviewIds(t.client, opts.run);
      const queues = await readQueuesWithin(t.client, ids, QUERY_TIMEOUT_MS);
      for (const [i, workflowId] of ids.entries()) {
        const queue = queues[i]!;
        if ('message' in queue) {
          console.log(`${workflowId}: could not read items (${queue.message})`);
          continue;
        }
        console.log(queueHeader(queue));
        for (const { step, items, missing } of await openItemsWithTexts(queue)) {
          console.log(stepHeader(step));
          for (const item of items) console.log(itemListLine(item));
          if (missing) console.log(`    (${missing})`);
        }
      }
      if (ids.length === 0) console.log(opts.run === undefined ? 'no open reviews' : `no open reviews for run ${opts.run}`);
    });
  });

  withConnectionOptions(
    review
      .command('show')
      .description("print a review's items in full: prompt, response, reference, judge score and rationale")
      .argument('<reviewWorkflowId>', "e.g. run-42-review (see `review list`); a run's workflow id finds its review")
      .argument('[itemId]', 'only this item'),
  ).action(async (given: string, itemId: string | undefined, opts: ConnectionFlags) => {
    await withTemporal(opts, async (t) => {
      const { workflowId, queue } = await findQueue(t, given);
      const all = queue.steps.flatMap((s) => s.items);
      if (itemId !== undefined && !all.some((i) => i.itemId === itemId)) {
        throw new CliError(`no item ${itemId} in ${workflowId} (items: ${all.map((i) => i.itemId).join(', ')})`);
      }
      console.log(queueHeader(queue));
      for (const step of queue.steps) {
        const chosen = itemId === undefined ? step.items : step.items.filter((i) => i.itemId === itemId);
        if (chosen.length === 0) continue;
        // The workflow holds ids and facts only; the texts are in the step's review file.
        const { items, missing } = await withReviewTexts(chosen, step.file);
        console.log(stepHeader(step));
        for (const item of items) console.log(`\n${itemDetails(item, missing)}`);
      }
      if (queue.open > 0) {
        console.log(`\nanswer with: npx arbiter review submit ${workflowId} <itemId> --pass | --fail | --score <0..1> [--note <text>]`);
      }
    });
  });

  withConnectionOptions(
    review
      .command('submit')
      .description("record a person's verdict on one item")
      .argument('<reviewWorkflowId>', "the review's workflow id, or its run's")
      .argument('<itemId>')
      .option('--pass', 'the response is acceptable')
      .option('--fail', 'the response is not acceptable')
      .option('--score <0..1>', 'a graded verdict; 0.5 and above counts as pass')
      .option('--note <text>', 'why, for the record')
      .option('--reviewer <name>', 'who answers (default: your login name)')
      .option('--criterion <id=pass|fail>', "your verdict on one of the judge's criteria (repeatable)", (v: string, all: string[] = []) => [...all, v]),
  ).action(
    async (
      given: string,
      itemId: string,
      opts: ConnectionFlags & AnswerFlags,
    ) => {
      const answer = answerOf(itemId, opts);
      await withTemporal(opts, async (t) => {
        const { workflowId } = await findQueue(t, given);
        const handle = t.client.workflow.getHandle(workflowId);
        let reply;
        try {
          reply = await t.connection.withDeadline(Date.now() + UPDATE_WAIT_SECONDS * 1000, () =>
            handle.executeUpdate(submitReviewUpdate, { args: [answer] }),
          );
        } catch (err) {
          const rejected = updateRejection(err);
          if (rejected !== undefined) throw new CliError(rejected);
          if (err instanceof WorkflowNotFoundError) throw await explainMissing(t, workflowId);
          if (err instanceof WorkflowUpdateRPCTimeoutOrCancelledError) {
            throw new CliError(`no worker accepted the review within ${UPDATE_WAIT_SECONDS}s; is an Arbiter worker running?`);
          }
          throw err;
        }
        console.log(
          `recorded ${itemId}: ${reply.agreesWithJudge ? 'agrees' : 'disagrees'} with the judge; ` +
            `${reply.open} item${reply.open === 1 ? '' : 's'} still open in ${workflowId}`,
        );
      });
    },
  );

  return review;
}

interface AnswerFlags {
  pass?: boolean;
  fail?: boolean;
  score?: string;
  note?: string;
  reviewer?: string;
  criterion?: string[];
}

function answerOf(itemId: string, opts: AnswerFlags): ReviewAnswer {
  const given = [opts.pass, opts.fail, opts.score !== undefined].filter(Boolean).length;
  if (given !== 1) throw new CliError('give exactly one of --pass, --fail, --score <0..1>', EXIT_INVALID);
  const answer: ReviewAnswer = { itemId, reviewer: opts.reviewer ?? loginName() };
  if (opts.score !== undefined) {
    const score = Number(opts.score);
    if (opts.score.trim() === '' || !(score >= 0 && score <= 1)) throw new CliError('--score: a number from 0 to 1', EXIT_INVALID);
    answer.score = score;
  } else {
    answer.verdict = opts.pass ? 'pass' : 'fail';
  }
  if (opts.note !== undefined) answer.note = opts.note;
  if (opts.criterion !== undefined) {
    answer.criteria = opts.criterion.map((given) => {
      const m = /^([^=]+)=(pass|fail)$/.exec(given);
      if (!m) throw new CliError(`--criterion ${given}: expected <id>=pass or <id>=fail`, EXIT_INVALID);
      return { id: m[1]!, pass: m[2] === 'pass' };
    });
  }
  if (answer.reviewer === undefined) delete answer.reviewer;
  return answer;
}

function loginName(): string | undefined {
  try {
    return process.env.USER ?? userInfo().username;
  } catch {
    return undefined;
  }
}

async function queryQueue(t: Temporal, workflowId: string): Promise<ReviewQueue> {
  try {
    return await t.connection.withDeadline(Date.now() + QUERY_TIMEOUT_MS, () => readQueue(t.client, workflowId));
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new CliError(`no review ${workflowId}`);
    if (isUnreachable(err)) throw err;
    throw await explainMissing(t, workflowId, err);
  }
}

/** A review workflow by its id, or a run's review by the run's workflow id. */
async function findQueue(t: Temporal, given: string): Promise<{ workflowId: string; queue: ReviewQueue }> {
  const workflowId = /-review(-\d+)?$/.test(given) ? given : runReviewWorkflowId(given);
  return { workflowId, queue: await queryQueue(t, workflowId) };
}

/** Why a review did not answer: gone, closed, or no worker to replay it. */
async function explainMissing(t: Temporal, workflowId: string, cause?: unknown): Promise<CliError> {
  try {
    const description = await t.client.workflow.getHandle(workflowId).describe();
    const status = description.status.name;
    if (status !== 'RUNNING') return new CliError(`review ${workflowId} is closed (${status.toLowerCase()}): its deadline passed or every item was answered`);
    return new CliError(
      `review ${workflowId} did not answer${cause === undefined ? '' : ` (${rootMessage(cause)})`}; is a worker polling task queue "${description.taskQueue}"?`,
    );
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return new CliError(`no review ${workflowId}`);
    throw err;
  }
}
