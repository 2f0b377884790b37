import { isAbsolute } from 'node:path';
import { WorkflowNotFoundError } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import type { Command } from 'commander';
import { RunConfigSchema, type RunConfig } from '../config/run-config';
import { readManifestFile, type ManifestLine, type RunEndLine } from '../contract/manifest';
import { RunLayout } from '../contract/run-layout';
import { readReviewItems } from '../review/review-items-for';
import type { RunHeader, StepAgreement } from '../report/report-data';
import { agreementByStep, type AnsweredItem } from '../report/review-agreement';
import { writeReport } from '../report/write-report';
import { configQuery } from '../../workflows/definitions';
import type { ReviewState } from '../../workflows/human-review-legacy';
import { runReviewQuery, runReviewWorkflowId, type RunReviewState } from '../../workflows/run-review';
import { queueOf } from '../temporal/review-queues';
import { withConnectionOptions, withTemporal, type ConnectionFlags, type Temporal } from './connect';
import { CliError, EXIT_INVALID } from './errors';
import { rootMessage } from '../temporal/client-errors';
import { NoAnswerError, readRun } from './read-run';
import { judgeLabel, judgeLabelForPeople } from '../config/judge-config';
import { isS3Location, joinLocation, resolveLocation } from '../storage/location';
import { storeFor } from '../storage/stores';
import { decompressed } from '../temporal/payload-compression';

const QUERY_MS = 5_000;

type ReportFlags = ConnectionFlags & { out?: string; dir?: string };

/** `arbiter run report <id>`: one self-contained HTML page of charts about a run. */
export function addReportCommand(run: Command): void {
  withConnectionOptions(
    run
      .command('report')
      .description("write a run's report: one self-contained HTML file of charts (opens without a network)")
      .argument('<workflowId>')
      .option('--out <file>', 'where to write it (default: report.html in the run\'s folder)')
      .option('--dir <runDir>', "read this run folder (<outputDir>/<runId>) without asking Temporal; the status then comes from the manifest")
      .addHelpText(
        'after',
        '\nWithout --dir the run\'s folder is found from its config (the run answers a query, or its start input\n' +
          'is read from history), and its status, pause reason and human reviews are asked from Temporal.',
      ),
  ).action(async (workflowId: string, opts: ReportFlags) => {
    const found = opts.dir !== undefined ? await fromFolder(workflowId, resolveLocation(opts.dir)) : await withTemporal(opts, (t) => fromTemporal(t, workflowId)).catch(withDirHint);
    const out = resolveLocation(opts.out ?? joinLocation(found.runDir, 'report.html'));
    const written = await writeReport({ runDir: found.runDir, header: found.header, humanAgreement: found.agreement, notes: found.notes, out });
    const drawn = written.charts.filter((c) => c.svg !== undefined).length;
    const versions = written.versions.length ? `, versions against the original: ${written.versions.join(', ')}` : '';
    console.log(`wrote ${out} (${kib(written.bytes)}, ${written.steps} steps, ${drawn} of ${written.charts.length} charts drawn${versions})`);
    for (const { chart } of written.charts.filter((c) => c.svg === undefined)) console.log(`  not drawn: ${chart.title}. ${chart.absent}`);
  });
}

interface Found {
  runDir: string;
  header: RunHeader;
  agreement: StepAgreement[];
  notes: string[];
}

async function fromFolder(workflowId: string, runDir: string): Promise<Found> {
  const { lines } = await requireManifest(runDir);
  const end = lines.find((l): l is RunEndLine => 'end' in l)?.end;
  const header: RunHeader = end
    ? { runId: workflowId, status: end.status, reason: end.reason, statusSource: "the manifest's closing line (Temporal was not asked)" }
    : { runId: workflowId, status: 'unknown', statusSource: 'the run folder alone (Temporal was not asked; the manifest has no closing line yet)' };
  return { runDir, header, agreement: [], notes: [] };
}

async function fromTemporal(t: Temporal, workflowId: string): Promise<Found> {
  const config = await runConfig(t, workflowId);
  const outputDir = config.outputDir;
  const runDir = RunLayout.of(resolveLocation(outputDir), config.runId ?? workflowId).runDir;
  const { lines } = await requireManifest(runDir, isAbsolute(outputDir) || isS3Location(outputDir) ? undefined : outputDir);
  const header = await runHeader(t, workflowId, config);
  // A closed run's result has no reason; its manifest's closing line does.
  header.reason ??= lines.find((l): l is RunEndLine => 'end' in l)?.end.reason;
  const reviewed = lines.filter((l): l is ManifestLine => 'step' in l).map((l) => l.step);
  const { answers, note } = await answeredReviews(t, workflowId, new RunLayout(runDir), reviewed);
  return { runDir, header, agreement: agreementByStep(answers), notes: note ? [note] : [] };
}

/** The run's config: the run answers it while a worker is up; else its start input says it. */
async function runConfig(t: Temporal, workflowId: string): Promise<RunConfig> {
  const handle = t.client.workflow.getHandle(workflowId);
  try {
    return await t.connection.withDeadline(Date.now() + QUERY_MS, () => handle.query(configQuery));
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new CliError(`no run ${workflowId}`);
  }
  // No worker answered: the latest execution's start input holds the config (continued runs carry it).
  const history = await t.client.workflowService.getWorkflowExecutionHistory({
    namespace: t.namespace,
    execution: { workflowId },
    maximumPageSize: 1,
  });
  const payloads = history.history?.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads ?? [];
  const [input, carried] = payloads.map((p) => defaultPayloadConverter.fromPayload(decompressed(p))) as [unknown, { config?: RunConfig } | undefined];
  if (carried?.config) return carried.config;
  const parsed = RunConfigSchema.safeParse(input);
  if (!parsed.success) throw new CliError(`run ${workflowId}: its start input is not a run config; pass the run folder with --dir`);
  return parsed.data;
}

async function runHeader(t: Temporal, workflowId: string, config: RunConfig): Promise<RunHeader> {
  const judgeModel = judgeLabel(config.judge);
  const base = { runId: workflowId, totalSteps: config.steps, judgeModel, judgeProvider: config.judge.provider };
  let state;
  try {
    state = await readRun(t, workflowId, QUERY_MS);
  } catch (err) {
    if (err instanceof NoAnswerError) {
      return { ...base, status: 'running', statusSource: 'Temporal: the run is running, but no worker answered its progress query' };
    }
    throw err;
  }
  if ('progress' in state) {
    const p = state.progress;
    return {
      ...base,
      status: p.status,
      reason: p.reason,
      totalSteps: p.totalSteps,
      currentStep: p.currentStep,
      judgeModel: judgeLabelForPeople(p.judgeModel),
      agreement: p.agreement,
      statusSource: "the run's progress query",
    };
  }
  if (state.result) {
    return { ...base, status: state.result.status, agreement: state.result.agreement, statusSource: "the run's result (no worker answered its progress query)" };
  }
  return { ...base, status: state.closed.toLowerCase().replace('_', ' '), reason: state.failure, statusSource: 'Temporal: the workflow closed without a result' };
}

/**
 * The answered review items of the run, per step, from its review queue (one workflow per run:
 * a running one answers its query, a closed one returned its state) or, for runs from before
 * the queue, from each reviewed step's own review workflow. A queue that continued as new holds
 * only the steps since, so the note says how many answers the chart covers.
 */
async function answeredReviews(t: Temporal, workflowId: string, layout: RunLayout, steps: number[]): Promise<{ answers: AnsweredItem[]; note?: string }> {
  const queue = await readReviewWorkflow(t, runReviewWorkflowId(workflowId));
  if (queue !== 'absent') {
    const answers = answersOf(queue);
    const total = 'kind' in queue.state && queue.state.kind === 'run-review' ? queue.state.counts.answered : answers.length;
    return {
      answers,
      note: total > answers.length ? `judge-human agreement per step covers ${answers.length} of ${total} answered reviews (the review queue keeps the steps since it last continued as new)` : undefined,
    };
  }
  const answers: AnsweredItem[] = [];
  for (const step of steps) {
    if ((await readReviewItems(layout.review(step))).length === 0) continue;
    const review = await readReviewWorkflow(t, `${workflowId}-review-${step}`);
    if (review !== 'absent') answers.push(...answersOf(review));
  }
  return { answers };
}

type ReviewRead = { workflowId: string; state: ReviewState | RunReviewState };

async function readReviewWorkflow(t: Temporal, reviewId: string): Promise<ReviewRead | 'absent'> {
  const handle = t.client.workflow.getHandle(reviewId);
  try {
    const { status } = await t.connection.withDeadline(Date.now() + QUERY_MS, () => handle.describe());
    const state =
      status.name === 'RUNNING'
        ? await t.connection.withDeadline(Date.now() + QUERY_MS, () => handle.query<ReviewState | RunReviewState>(runReviewQuery.name))
        : ((await handle.result()) as ReviewState | RunReviewState);
    return { workflowId: reviewId, state };
  } catch (err) {
    // A review that cannot be read leaves the agreement chart out, not the report.
    if (!(err instanceof WorkflowNotFoundError) && process.env.ARBITER_DEBUG) console.error(`${reviewId}: ${rootMessage(err)}`);
    return 'absent';
  }
}

function answersOf(read: ReviewRead): AnsweredItem[] {
  return queueOf(read.workflowId, read.state).steps.flatMap((s) =>
    s.items.flatMap((item) => (item.answer ? [{ step: s.step, judgePass: item.judgePass, humanPass: item.answer.humanPass }] : [])),
  );
}

async function requireManifest(runDir: string, relativeOutputDir?: string) {
  // A folder is there when something is stored in it (S3 has no folders of its own).
  const exists = (await storeFor(runDir).list(runDir).catch(() => [])).length > 0;
  if (!exists) {
    const hint = relativeOutputDir
      ? ` (the run's outputDir "${relativeOutputDir}" is relative to the worker's working directory; run this from there or pass --dir <the run folder>)`
      : '';
    throw new CliError(`no run folder at ${runDir}${hint}`, EXIT_INVALID);
  }
  return readManifestFile(new RunLayout(runDir).manifest);
}

/** Without Temporal the report can still be made from the folder: say how. */
function withDirHint(err: unknown): never {
  if (err instanceof CliError && err.message.startsWith('cannot reach Temporal')) {
    throw new CliError(`${err.message}\nto report from the run's folder alone: npx arbiter run report <id> --dir <outputDir>/<runId>`, err.exitCode);
  }
  throw err;
}

function kib(bytes: number): string {
  return bytes < 1024 * 1024 ? `${(bytes / 1024).toFixed(0)} KiB` : `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}
