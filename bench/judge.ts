/**
 * Judge throughput benchmark: `npm run bench:judge`.
 *
 * A fake Bedrock (test/support/fake-bedrock.ts) answers Converse in 200 ms under an account
 * quota of 50 requests/s (token bucket with a small burst, like a per-second window); beyond
 * it, 429 ThrottlingException. 2,000 rollouts are judged with a 3-criterion rubric, four ways:
 *
 *  (a) arbiter        Arbiter's chunk activity code (prepareBatch, then scoreChunk over all chunks,
 *                     several at once as the workflow's maxChunksInFlight) with the judge from
 *                     buildJudge: per-process QuotaLimiter (AIMD) + full-jitter retries, cache off.
 *  (b) naive          Promise.all over 2,000 ConverseCommand sends, SDK default retries.
 *  (c) pool16         16 workers, 5 tries per call with exponential backoff + jitter, SDK retries off
 *                     (the usual reward-Lambda pattern).
 *  (d) arbiter-2proc  two worker processes (bench/judge-worker.ts) on the one quota, each configured
 *                     with half of it, each scoring half of the step's chunks (1,000 rollouts).
 *  (d2) arbiter-2proc-aimd  the same, each configured with the whole quota, relying on AIMD.
 *  (e) prompt-cache   (a) over BENCH_CACHE_ROLLOUTS rollouts with Bedrock prompt caching (on by
 *                     default for the model): the three-criterion rubric and a twelve-criterion
 *                     expert rubric on Claude 3.5 Haiku (caches prefixes of 2,048+ tokens), and the
 *                     expert rubric on Claude Sonnet 4 (1,024+): billed input tokens per rollout
 *                     with and without caching, each from one run (the fake reports what it read
 *                     from and wrote to its cache, which without caching is billed as input).
 *  (f) group-cache    GRPO's shape: BENCH_GROUP_PROMPTS prompts, each a ~3,000-token source document,
 *                     16 responses of ~300 tokens each, the twelve-criterion expert rubric on Claude
 *                     Sonnet 4, judged three times: no caching, the rubric cached, the rubric and each
 *                     group's document cached (a group's first call alone, then the rest). Billed
 *                     input per rollout for each, the floor for the shape (one write and 15 reads of
 *                     the document per group, the rubric read, the responses in full), and the
 *                     throughput of each against the quota.
 *
 * One JSON line on stdout, a row per variant; progress notes on stderr. Not a test: nothing asserts.
 *
 * Environment knobs, for exploring (the defaults are the configuration the results were measured with):
 *   BENCH_VARIANTS=arbiter,naive,...  subset to run      BENCH_ROLLOUTS=2000
 *   BENCH_RPM=3000 (judge.quota.requestsPerMinute)      BENCH_MAX_IN_FLIGHT (judge.quota.maxInFlight)
 *   BENCH_CHUNK_SIZE=100  BENCH_CHUNKS_IN_FLIGHT=8     BENCH_FAKE_BURST=10
 *   BENCH_2PROC_SPLIT=static|queue (how the two workers of (d) share the chunks)
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { BedrockRuntimeClient, ConverseCommand } from '@aws-sdk/client-bedrock-runtime';
import { estimateTokens, startFakeBedrock, type FakeBedrock } from '../test/support/fake-bedrock';
import { TEST_MODEL, useFakeBedrockEnv } from '../test/support/fake-bedrock-env';
import { buildJudge } from '../src/judges/build-judge';
import { limiterSnapshots } from '../src/judges/model-registry';
import { parseRubricVerdict } from '../src/judges/parse-verdict';
import { buildRubricPrompt, rubricSystemPrompt } from '../src/judges/prompts/rubric-prompt';
import { bareModelId, promptCacheSupport } from '../src/config/prompt-cache-support';
import type { RubricInput } from '../src/config/rubric';
import { EXPERT_RUBRIC } from './expert-rubric';
import { RubricSchema } from '../src/config/rubric';
import { RunLayout, stepRolloutFile } from '../src/contract/run-layout';
import { prepareBatch } from '../src/steps/prepare-batch';
import { RUBRIC, STEP, benchRunConfig, scoreChunks, sumOutcomes, type BenchCaching, type BenchQuota, type ChunksOutcome } from './chunk-slots';
import { envNumber, note, round, runBench } from './harness';
import { rolloutOf, textOf, writeStepFile, type BenchRollout } from './step-files';
import type { WorkerChunk, WorkerMessage, WorkerStart } from './judge-worker';

const QUOTA_RPS = 50;
const LATENCY_MS = 200;
const FAKE_BURST = envNumber('BENCH_FAKE_BURST', 10);
const ROLLOUTS = envNumber('BENCH_ROLLOUTS', 2000);
const CHUNK_SIZE = envNumber('BENCH_CHUNK_SIZE', 100);
const CHUNKS_IN_FLIGHT = envNumber('BENCH_CHUNKS_IN_FLIGHT', 8);
const SPLIT = process.env.BENCH_2PROC_SPLIT === 'queue' ? 'queue' : 'static';

/**
 * What a user sets in `judge.quota` for one worker process that owns the whole quota:
 * requestsPerMinute is the account quota itself (3000/min = 50/s); maxInFlight is the config
 * default. The limiter's request burst (a tenth of a second of quota) keeps the start from
 * overrunning the provider's short-window limit.
 */
const ARBITER_QUOTA: BenchQuota = {
  requestsPerMinute: envNumber('BENCH_RPM', QUOTA_RPS * 60),
  maxInFlight: envNumber('BENCH_MAX_IN_FLIGHT', 32),
};

const POOL_WORKERS = 16;
const POOL_TRIES = 5;
const POOL_BASE_MS = 100;

const ALL_VARIANTS = ['arbiter', 'naive', 'pool16', 'arbiter-2proc', 'arbiter-2proc-aimd', 'prompt-cache', 'group-cache'] as const;
const CACHE_ROLLOUTS = envNumber('BENCH_CACHE_ROLLOUTS', 500);
const SONNET_4 = 'us.anthropic.claude-sonnet-4-20250514-v1:0';
type Variant = (typeof ALL_VARIANTS)[number];

const here = dirname(fileURLToPath(import.meta.url));
const rubric = RubricSchema.parse(RUBRIC);
const criterionIds = rubric.criteria.map((c) => c.id);

interface VariantResult {
  variant: Variant;
  seconds: number;
  /** Samples that got a judgement. */
  judged: number;
  /** Samples without one. */
  failed: number;
  /** Samples that got Arbiter's fallback reward; null where the pattern has no fallback (the sample is lost). */
  fallbacks: number | null;
  extra?: Record<string, unknown>;
}

/** The variant's row of the result, with the fake's counters. */
function report(result: VariantResult, fake: FakeBedrock): Record<string, unknown> {
  const { stats } = fake;
  const throughput = result.judged / result.seconds;
  return {
    variant: result.variant,
    rollouts: ROLLOUTS,
    seconds: round(result.seconds, 2),
    throughput: round(throughput, 2),
    throughput_over_quota: round(throughput / QUOTA_RPS, 3),
    failed: result.failed,
    throttled_per_success: round(stats.throttled / Math.max(1, stats.ok), 3),
    fallbacks: result.fallbacks,
    requests: stats.requests,
    // Diagnostics beyond the issue's columns.
    ok: stats.ok,
    throttled: stats.throttled,
    other_errors: stats.errorsByStatus,
    fake_max_in_flight: stats.maxInFlight,
    ...result.extra,
  };
}

// ---------------------------------------------------------------- (a) arbiter, in this process

async function prepareRun(
  outputDir: string,
  rolloutsDir: string,
  quota: BenchQuota,
  judge: { rubric?: RubricInput; model?: string; rollouts?: number; caching?: BenchCaching; keepGroupsTogether?: boolean } = {},
) {
  const rollouts = judge.rollouts ?? ROLLOUTS;
  const config = benchRunConfig({ rolloutsDir, outputDir, quota, chunkSize: CHUNK_SIZE, maxChunksInFlight: CHUNKS_IN_FLIGHT, rubric: judge.rubric, model: judge.model, caching: judge.caching });
  const layout = RunLayout.of(config.outputDir, config.runId!);
  await rm(layout.runDir, { recursive: true, force: true });
  await mkdir(layout.work(STEP), { recursive: true });
  await mkdir(dirname(layout.rewards(STEP)), { recursive: true });
  const info = await prepareBatch({ source: stepRolloutFile(rolloutsDir, STEP), layout, step: STEP, chunkSize: config.chunkSize, keepGroupsTogether: judge.keepGroupsTogether });
  if (info.valid !== rollouts) throw new Error(`prepareBatch kept ${info.valid} of ${rollouts} rollouts`);
  return { config, chunks: Array.from({ length: info.chunkCount }, (_, i) => i) };
}

function arbiterResult(variant: Variant, seconds: number, outcome: ChunksOutcome, extra: Record<string, unknown>): VariantResult {
  if (outcome.count !== ROLLOUTS) throw new Error(`${variant}: ${outcome.count} reward records for ${ROLLOUTS} rollouts`);
  const failed = outcome.fallback + outcome.excluded;
  return { variant, seconds, judged: outcome.scored, failed, fallbacks: failed, extra: { failures: outcome.failures, ...extra } };
}

async function runArbiter(work: string, rolloutsDir: string): Promise<VariantResult> {
  const { config, chunks } = await prepareRun(join(work, 'arbiter'), rolloutsDir, ARBITER_QUOTA);
  // No cacheDir: the judge cache is off, every rollout is a model call.
  const judge = await buildJudge(config.judge, {});
  try {
    const began = performance.now();
    const outcome = await scoreChunks({ config, judge, chunks });
    const seconds = (performance.now() - began) / 1000;
    const limiter = limiterSnapshots()[0];
    return arbiterResult('arbiter', seconds, outcome, {
      quota: ARBITER_QUOTA,
      limiter: limiter && { effectiveRpm: round(limiter.effectiveRequestsPerMinute, 1), decreases: limiter.decreases, increases: limiter.increases },
    });
  } finally {
    await judge.close();
  }
}

// ------------------------------------------------- (e) prompt caching, billed input tokens

/**
 * Billed input per rollout, in input-price tokens: without caching every input token is billed
 * in full; with it, cache reads cost 0.1x and writes 1.25x an input token (Anthropic on Bedrock).
 */
async function runPromptCache(work: string, fake: FakeBedrock): Promise<Record<string, unknown>> {
  const rolloutsDir = join(work, 'cache-rollouts');
  await writeStepFile(rolloutsDir, STEP, CACHE_ROLLOUTS);
  const rows: Record<string, unknown>[] = [];
  const cases = [
    ['three-criteria', RUBRIC, TEST_MODEL],
    ['expert-12-criteria', EXPERT_RUBRIC, TEST_MODEL],
    ['expert-12-criteria', EXPERT_RUBRIC, SONNET_4],
  ] as const;
  for (const [name, rubric, model] of cases) {
    const support = promptCacheSupport(model)!;
    await resetFake(fake);
    const { config, chunks } = await prepareRun(join(work, `cache-${name}-${support.minTokens}`), rolloutsDir, ARBITER_QUOTA, { rubric, model, rollouts: CACHE_ROLLOUTS });
    const judge = await buildJudge(config.judge, {});
    let outcome: ChunksOutcome;
    try {
      outcome = await scoreChunks({ config, judge, chunks });
    } finally {
      await judge.close();
    }
    const { inputTokens, cacheReadInputTokens: read, cacheWriteInputTokens: write } = fake.stats;
    const n = Math.max(1, outcome.count);
    const without = (inputTokens + read + write) / n;
    const withCache = (inputTokens + read * support.readPriceRatio + write * support.writePriceRatio) / n;
    const systemTokens = Math.ceil(rubricSystemPrompt(RubricSchema.parse(rubric)).length / 4);
    note(
      `prompt cache, ${name} rubric on ${bareModelId(model)} (system prompt ~${systemTokens} tokens, model minimum ${support.minTokens}): ` +
        `billed input tokens per rollout ${round(without, 1)} without caching, ${round(withCache, 1)} with ` +
        `(${round((1 - withCache / without) * 100, 1)}% less; ${read} read, ${write} written over ${outcome.count} rollouts)`,
    );
    rows.push({
      rubric: name,
      model,
      rollouts: outcome.count,
      scored: outcome.scored,
      system_prompt_tokens: systemTokens,
      model_min_cache_tokens: support.minTokens,
      billed_input_per_rollout_without_cache: round(without, 1),
      billed_input_per_rollout_with_cache: round(withCache, 1),
      saving: round(1 - withCache / without, 3),
      input_tokens: inputTokens,
      cache_read_input_tokens: read,
      cache_write_input_tokens: write,
      requests: fake.stats.requests,
    });
  }
  return { variant: 'prompt-cache', rubrics: rows };
}

// ------------------------------------------------------ (d) arbiter, two worker processes

/**
 * The QuotaLimiter is per process (src/call-policy/quota-limiter.ts; model-registry.ts keeps one per
 * model per process): it knows nothing of other workers and assumes it owns the
 * `requestsPerMinute` it is given. With N worker processes on one account quota, the way to
 * configure them is to give each its share in `judge.quota`: requestsPerMinute / N (here
 * 1500/min each for 3000/min) and maxInFlight / N (here 16 each for 32). The `-aimd` variant
 * instead gives each process the whole quota and relies on AIMD (429 → rate × 0.7, then +5%
 * per 10 s without throttling) to find the sum: it pays a burst of 429s at the start and the
 * slow climb back.
 */
async function runTwoProcesses(variant: Variant, work: string, rolloutsDir: string, perProcess: BenchQuota): Promise<VariantResult> {
  const { config, chunks } = await prepareRun(join(work, variant), rolloutsDir, perProcess);
  const children: ChildProcess[] = [];
  try {
    // Each runs half of maxChunksInFlight chunk activities. `static` (default): each worker
    // scores its own half of the chunks (1,000 rollouts). `queue`: both pull from one queue, as
    // from Temporal's task queue; then the split is uneven and the worker left with the last
    // chunks finishes them alone, at its share of the quota (the other share idles).
    const queues = SPLIT === 'queue' ? [[...chunks]] : [0, 1].map((k) => chunks.filter((c) => c % 2 === k));
    const slots = Math.max(1, Math.ceil(config.maxChunksInFlight / 2));
    const done: Promise<Extract<WorkerMessage, { type: 'done' }>>[] = [];
    const ready: Promise<void>[] = [];
    for (let k = 0; k < 2; k++) {
      const child = fork(join(here, 'judge-worker.ts'), [], {
        execArgv: ['--import', 'tsx'],
        // The AWS_* variables set in main() reach the worker through its environment.
        env: process.env,
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
      children.push(child);
      child.on('message', (message: WorkerMessage) => {
        const queue = queues[SPLIT === 'queue' ? 0 : k]!;
        if (message.type === 'want') child.send({ type: 'chunk', request: message.request, chunk: queue.shift() ?? null } satisfies WorkerChunk);
      });
      const messages = workerMessages(child);
      ready.push(messages.then(() => undefined));
      const finished = messages.then((m) => m.done);
      // Observed below; this only keeps an early failure from being an unhandled rejection.
      finished.catch(() => {});
      done.push(finished);
      child.send({ type: 'start', config, slots } satisfies WorkerStart);
    }
    await Promise.all(ready.map((r, i) => r.catch((err) => Promise.reject(new Error(`worker ${i}: ${err}`)))));
    const began = performance.now();
    for (const child of children) child.send({ type: 'go' });
    const results = await Promise.all(done);
    const seconds = (performance.now() - began) / 1000;
    const outcome = sumOutcomes(results.map((r) => r.outcome));
    return arbiterResult(variant, seconds, outcome, {
      quota_per_process: perProcess,
      processes: 2,
      split: SPLIT,
      worker_rollouts: results.map((r) => r.outcome.count),
      worker_seconds: results.map((r) => round(r.seconds, 2)),
      limiters: results.map((r) => {
        const l = r.limiter[0];
        return l && { effectiveRpm: round(l.effectiveRequestsPerMinute, 1), decreases: l.decreases, increases: l.increases };
      }),
    });
  } finally {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill();
  }
}

/** Resolves once the worker is ready; `.done` resolves with its result. */
function workerMessages(child: ChildProcess): Promise<{ done: Promise<Extract<WorkerMessage, { type: 'done' }>> }> {
  return new Promise((resolveReady, rejectReady) => {
    let resolveDone!: (m: Extract<WorkerMessage, { type: 'done' }>) => void;
    let rejectDone!: (err: Error) => void;
    const donePromise = new Promise<Extract<WorkerMessage, { type: 'done' }>>((res, rej) => {
      resolveDone = res;
      rejectDone = rej;
    });
    donePromise.catch(() => {});
    child.on('message', (message: WorkerMessage) => {
      if (message.type === 'ready') resolveReady({ done: donePromise });
      else if (message.type === 'done') resolveDone(message);
      else if (message.type === 'error') {
        const err = new Error(`worker failed: ${message.message}`);
        rejectReady(err);
        rejectDone(err);
      }
    });
    child.on('exit', (code, signal) => {
      const err = new Error(`worker exited (code ${code}, signal ${signal}) before finishing`);
      rejectReady(err);
      rejectDone(err);
    });
  });
}

// --------------------------------------------------------- (b) naive and (c) pool16

function converseCommand(rollout: BenchRollout): ConverseCommand {
  // The same request Arbiter's rubric judge sends (BedrockChatModel), so the fake answers alike.
  const prompt = buildRubricPrompt(rubric, rollout);
  return new ConverseCommand({
    modelId: TEST_MODEL,
    system: [{ text: prompt.system }],
    messages: prompt.messages.map((m) => ({ role: m.role, content: [{ text: m.text }] })),
    inferenceConfig: { temperature: 0, maxTokens: 512 },
  });
}

/** A judgement is a 200 whose text parses as the rubric verdict. */
async function judgeOnce(client: BedrockRuntimeClient, rollout: BenchRollout): Promise<boolean> {
  const output = await client.send(converseCommand(rollout));
  const text = (output.output?.message?.content ?? []).map((b) => b.text ?? '').join('');
  return parseRubricVerdict(text, criterionIds).ok;
}

async function runNaive(rollouts: BenchRollout[]): Promise<VariantResult> {
  // The SDK's defaults: standard retry mode, 3 attempts, its own retry-token bucket. No maxAttempts.
  const client = new BedrockRuntimeClient({});
  try {
    const began = performance.now();
    const settled = await Promise.allSettled(rollouts.map((r) => judgeOnce(client, r)));
    const seconds = (performance.now() - began) / 1000;
    const judged = settled.filter((s) => s.status === 'fulfilled' && s.value).length;
    return { variant: 'naive', seconds, judged, failed: rollouts.length - judged, fallbacks: null, extra: { errors: errorNames(settled) } };
  } finally {
    client.destroy();
  }
}

async function runPool(rollouts: BenchRollout[]): Promise<VariantResult> {
  const client = new BedrockRuntimeClient({ maxAttempts: 1 });
  const errors: Record<string, number> = {};
  let judged = 0;
  let nextIndex = 0;
  const worker = async (): Promise<void> => {
    for (;;) {
      const rollout = rollouts[nextIndex++];
      if (!rollout) return;
      for (let attempt = 1; ; attempt++) {
        try {
          if (await judgeOnce(client, rollout)) judged++;
          break;
        } catch (err) {
          if (attempt >= POOL_TRIES) {
            const name = (err as Error).name ?? 'Error';
            errors[name] = (errors[name] ?? 0) + 1;
            break;
          }
          // Exponential backoff, 100 ms × 2^(attempt-1), plus up to one base of random jitter.
          await sleep(POOL_BASE_MS * 2 ** (attempt - 1) + Math.random() * POOL_BASE_MS);
        }
      }
    }
  };
  try {
    const began = performance.now();
    await Promise.all(Array.from({ length: POOL_WORKERS }, worker));
    const seconds = (performance.now() - began) / 1000;
    return {
      variant: 'pool16',
      seconds,
      judged,
      failed: rollouts.length - judged,
      fallbacks: null,
      extra: { errors, pool: { workers: POOL_WORKERS, tries: POOL_TRIES, baseMs: POOL_BASE_MS } },
    };
  } finally {
    client.destroy();
  }
}

function errorNames(settled: PromiseSettledResult<boolean>[]): Record<string, number> {
  const names: Record<string, number> = {};
  for (const s of settled) {
    const name = s.status === 'rejected' ? ((s.reason as Error)?.name ?? 'Error') : s.value ? undefined : 'unparseable';
    if (name) names[name] = (names[name] ?? 0) + 1;
  }
  return names;
}

// ------------------------------------------------------------------------------- main

function selectedVariants(): Variant[] {
  const raw = process.env.BENCH_VARIANTS;
  if (!raw) return [...ALL_VARIANTS];
  const wanted = raw.split(',').map((v) => v.trim()).filter(Boolean);
  for (const v of wanted) if (!(ALL_VARIANTS as readonly string[]).includes(v)) throw new Error(`unknown variant ${v}; known: ${ALL_VARIANTS.join(', ')}`);
  return wanted as Variant[];
}

// ------------------------------------------- (f) group prompt caching, GRPO's shape

const GROUP_PROMPTS = envNumber('BENCH_GROUP_PROMPTS', 32);
const GROUP_SIZE = 16;
/** The fake counts four characters a token. */
const DOCUMENT_CHARS = 3000 * 4;
const GROUP_RESPONSE_CHARS = 300 * 4;

async function writeGroupStep(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  const lines: string[] = [];
  for (let g = 0; g < GROUP_PROMPTS; g++) {
    const prompt = `Source document ${g}:\n${textOf(g * 7 + 1, DOCUMENT_CHARS)}\n\nFlag every legal risk in the document above.`;
    for (let i = 0; i < GROUP_SIZE; i++) {
      const id = `g${g}-r${i}`;
      lines.push(JSON.stringify({ id, group: `g${g}`, prompt, response: `[${id}] ${textOf(g * 1000 + i * 3 + 2, GROUP_RESPONSE_CHARS)}` }));
    }
  }
  await writeFile(stepRolloutFile(dir, STEP), lines.join('\n') + '\n');
}

/**
 * Billed input per rollout (in input-price tokens: reads 0.1x, writes 1.25x, Anthropic on
 * Bedrock) without caching, with the rubric cached, and with the rubric and each group's
 * document cached, from three runs over the same rollouts; and the floor of the shape.
 */
async function runGroupCache(work: string, fake: FakeBedrock): Promise<Record<string, unknown>> {
  const rolloutsDir = join(work, 'group-rollouts');
  await writeGroupStep(rolloutsDir);
  const rollouts = GROUP_PROMPTS * GROUP_SIZE;
  const support = promptCacheSupport(SONNET_4)!;
  const modes = [
    ['none', { promptCache: false }],
    ['rubric', { promptCache: true, groupPromptCache: false }],
    ['rubric+group', { promptCache: true, groupPromptCache: true }],
  ] as const;
  const rows: Record<string, unknown>[] = [];
  let uncached = 0;
  let parts = { system: 0, shared: 0, rest: 0 };
  for (const [name, caching] of modes) {
    await resetFake(fake);
    note(`group cache, ${name} ...`);
    const { config, chunks } = await prepareRun(join(work, `group-${name}`), rolloutsDir, ARBITER_QUOTA, {
      rubric: EXPERT_RUBRIC,
      model: SONNET_4,
      rollouts,
      caching,
      keepGroupsTogether: true,
    });
    const judge = await buildJudge(config.judge, {});
    const began = performance.now();
    let outcome: ChunksOutcome;
    try {
      outcome = await scoreChunks({ config, judge, chunks });
    } finally {
      await judge.close();
    }
    const seconds = (performance.now() - began) / 1000;
    const { inputTokens, cacheReadInputTokens: read, cacheWriteInputTokens: write } = fake.stats;
    const n = Math.max(1, outcome.count);
    const billed = (inputTokens + read * support.readPriceRatio + write * support.writePriceRatio) / n;
    if (name === 'none') {
      uncached = billed;
      // The shape of one call, from the prompt the judge sends: rubric, the group's shared part, the rest.
      const rubric = RubricSchema.parse(EXPERT_RUBRIC);
      const first = JSON.parse((await readFile(stepRolloutFile(rolloutsDir, STEP), 'utf8')).split('\n')[0]!) as BenchRollout;
      const prompt = buildRubricPrompt(rubric, first, () => '0123456789abcdef', true);
      const sharedChars = prompt.messages[0]!.sharedPrefixChars!;
      parts = {
        system: estimateTokens(prompt.system),
        shared: estimateTokens(prompt.messages[0]!.text.slice(0, sharedChars)),
        rest: estimateTokens(prompt.messages[0]!.text.slice(sharedChars)),
      };
    }
    const throughput = outcome.scored / seconds;
    const row = {
      caching: name,
      rollouts: outcome.count,
      scored: outcome.scored,
      seconds: round(seconds, 2),
      throughput_over_quota: round(throughput / QUOTA_RPS, 3),
      billed_input_per_rollout: round(billed, 1),
      of_uncached: round(billed / Math.max(1, uncached), 3),
      input_tokens: inputTokens,
      cache_read_input_tokens: read,
      cache_write_input_tokens: write,
      throttled: fake.stats.throttled,
    };
    note(JSON.stringify(row));
    rows.push(row);
  }
  // One write and fifteen reads of the document per group, the rubric read, the responses in full.
  const g = GROUP_SIZE;
  const floor =
    parts.system * support.readPriceRatio + (parts.shared * (support.writePriceRatio + (g - 1) * support.readPriceRatio)) / g + parts.rest;
  const floorShare = floor / (parts.system + parts.shared + parts.rest);
  note(
    `group cache on ${bareModelId(SONNET_4)}: per rollout ~${parts.system} rubric + ~${parts.shared} shared + ~${parts.rest} own tokens; ` +
      `billed input ${rows.map((r) => `${r.caching} ${r.billed_input_per_rollout} (${r.of_uncached} of uncached)`).join(', ')}; ` +
      `floor ${round(floor, 1)} (${round(floorShare, 3)} of uncached)`,
  );
  return {
    variant: 'group-cache',
    model: SONNET_4,
    groups: GROUP_PROMPTS,
    group_size: g,
    tokens_per_rollout: parts,
    floor_billed_input_per_rollout: round(floor, 1),
    floor_of_uncached: round(floorShare, 3),
    runs: rows,
  };
}

/** Waits until the fake has no call in flight (late answers of the previous variant), then zeroes it. */
async function resetFake(fake: FakeBedrock): Promise<void> {
  for (let i = 0; i < 100 && fake.stats.inFlight > 0; i++) await sleep(50);
  // Let the fake's per-second window fully refill, as it would between two jobs.
  await sleep(1000);
  fake.reset();
}

async function main(): Promise<Record<string, unknown>> {
  const variants = selectedVariants();
  const fake = await startFakeBedrock({
    latencyMs: LATENCY_MS,
    quota: { requestsPerSecond: QUOTA_RPS, burst: FAKE_BURST },
    seed: 7,
  });
  // Set before any client exists: BedrockChatModel (via buildJudge), the naive and pool clients,
  // and the forked workers all pick the standard SDK variables up.
  const restoreEnv = useFakeBedrockEnv(fake.url);

  const work = await mkdtemp(join(tmpdir(), 'arbiter-bench-'));
  try {
    const rollouts = Array.from({ length: ROLLOUTS }, (_, i) => rolloutOf(STEP, i));
    const rolloutsDir = join(work, 'rollouts');
    await writeStepFile(rolloutsDir, STEP, ROLLOUTS);
    note(`fake Bedrock at ${fake.url}: ${LATENCY_MS} ms, ${QUOTA_RPS} req/s (burst ${FAKE_BURST}); ${ROLLOUTS} rollouts; variants ${variants.join(', ')}`);

    const half: BenchQuota = {
      requestsPerMinute: ARBITER_QUOTA.requestsPerMinute / 2,
      maxInFlight: Math.max(1, Math.ceil(ARBITER_QUOTA.maxInFlight / 2)),
    };
    const rows: Record<string, unknown>[] = [];
    for (const variant of variants) {
      if (variant === 'prompt-cache') {
        rows.push(await runPromptCache(work, fake));
        continue;
      }
      if (variant === 'group-cache') {
        rows.push(await runGroupCache(work, fake));
        continue;
      }
      await resetFake(fake);
      note(`${variant} ...`);
      let result: VariantResult;
      switch (variant) {
        case 'arbiter':
          result = await runArbiter(work, rolloutsDir);
          break;
        case 'naive':
          result = await runNaive(rollouts);
          break;
        case 'pool16':
          result = await runPool(rollouts);
          break;
        case 'arbiter-2proc':
          result = await runTwoProcesses(variant, work, rolloutsDir, half);
          break;
        case 'arbiter-2proc-aimd':
          result = await runTwoProcesses(variant, work, rolloutsDir, ARBITER_QUOTA);
          break;
        default:
          throw new Error(`unhandled variant ${variant}`);
      }
      const row = report(result, fake);
      note(JSON.stringify(row));
      rows.push(row);
    }
    return { bench: 'judge', rollouts: ROLLOUTS, quota_rps: QUOTA_RPS, latency_ms: LATENCY_MS, variants: rows };
  } finally {
    restoreEnv();
    await fake.close();
    await rm(work, { recursive: true, force: true });
  }
}

// The judge runtime keeps its Bedrock client for the process's lifetime: runBench exits once the line is out.
runBench(main);
