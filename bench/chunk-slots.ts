/**
 * Arbiter's chunk loop minus Temporal, for the judge benchmark (`bench/judge.ts`) and its worker
 * processes (`bench/judge-worker.ts`): what the workflow does with `maxChunksInFlight` scoring
 * activities, and the run config both score under (a Bedrock rubric judge, cache off).
 */
import type { RubricInput } from '../src/config/rubric';
import { parseRunConfig, type RunConfig } from '../src/config/run-config';
import type { JudgeHandle } from '../src/judges/build-judge';
import { RunLayout } from '../src/contract/run-layout';
import { judgeChunk, type ChunkResult } from '../src/steps/judge-chunk';
import { TEST_MODEL } from '../test/support/fake-bedrock-env';

export const STEP = 1;

/** Three criteria: the fake's default answer passes each id it finds in the prompt. */
export const RUBRIC: RubricInput = {
  criteria: [
    { id: 'correct', description: 'The response answers the question correctly, consistent with the reference answer.' },
    { id: 'cites_clause', description: 'The response names the contract clause its answer relies on.' },
    { id: 'concise', description: 'The response is at most three sentences long.', weight: 0.5 },
  ],
};

export interface BenchQuota {
  requestsPerMinute: number;
  maxInFlight: number;
}

/** The benchmarks' Bedrock rubric judge (the fake's model) at a quota. */
/** The judge's prompt caching settings (judge.promptCache, judge.groupPromptCache); defaults when absent. */
export interface BenchCaching {
  promptCache?: boolean;
  groupPromptCache?: boolean;
}

export function benchBedrockJudge(quota: BenchQuota, rubric: RubricInput = RUBRIC, model = TEST_MODEL, caching: BenchCaching = {}) {
  return {
    provider: 'bedrock' as const,
    model,
    ...caching,
    mode: 'rubric' as const,
    rubric,
    maxTokens: 512,
    quota: { requestsPerMinute: quota.requestsPerMinute, maxInFlight: quota.maxInFlight },
  };
}

/** A full run config as a user would write it: a Bedrock rubric judge, cache off. */
export function benchRunConfig(args: {
  rolloutsDir: string;
  outputDir: string;
  quota: BenchQuota;
  chunkSize: number;
  maxChunksInFlight: number;
  rubric?: RubricInput;
  model?: string;
  caching?: BenchCaching;
}): RunConfig {
  return parseRunConfig({
    runId: 'bench',
    steps: 1,
    rollouts: { type: 'directory', path: args.rolloutsDir },
    judge: benchBedrockJudge(args.quota, args.rubric, args.model, args.caching),
    chunkSize: args.chunkSize,
    maxChunksInFlight: args.maxChunksInFlight,
    // Every rollout must be a real call to the fake: no judge cache.
    cache: false,
    outputDir: args.outputDir,
  });
}

export interface ChunksOutcome {
  count: number;
  scored: number;
  fallback: number;
  excluded: number;
  failures: Record<string, number>;
}

/**
 * Scores the given chunks of the step with Arbiter's chunk activity code, at most
 * `maxChunksInFlight` at once, as the workflow schedules them. All chunks of one process share
 * the process's QuotaLimiter (src/judges/model-registry.ts).
 */
export async function scoreChunks(args: {
  config: RunConfig;
  judge: JudgeHandle;
  chunks: number[];
}): Promise<ChunksOutcome> {
  const queue = [...args.chunks];
  return pullChunks({ ...args, slots: args.config.maxChunksInFlight, next: async () => queue.shift() });
}

/**
 * Runs `slots` chunk activities at once, each slot taking the next chunk from `next` until it
 * returns undefined: how a worker's activity slots pull the step's scheduled chunks from the
 * task queue (with two workers, `next` is the shared queue of the parent process).
 */
export async function pullChunks(args: {
  config: RunConfig;
  judge: JudgeHandle;
  slots: number;
  next: () => Promise<number | undefined>;
}): Promise<ChunksOutcome> {
  const { config, judge } = args;
  const layout = RunLayout.of(config.outputDir, config.runId!);
  const results: ChunkResult[] = [];
  const slot = async (): Promise<void> => {
    for (let chunk = await args.next(); chunk !== undefined; chunk = await args.next()) {
      results.push(
        await judgeChunk({ layout, runId: config.runId!, step: STEP, chunk, judge, rewards: config.rewards, fallback: config.fallback }),
      );
    }
  };
  await Promise.all(Array.from({ length: args.slots }, slot));
  return sumOutcomes(results);
}

/** The outcome of all the chunks (of one process, or of several). */
export function sumOutcomes(outcomes: (Omit<ChunksOutcome, 'failures'> & { failures: Partial<Record<string, number>> })[]): ChunksOutcome {
  const total: ChunksOutcome = { count: 0, scored: 0, fallback: 0, excluded: 0, failures: {} };
  for (const o of outcomes) {
    total.count += o.count;
    total.scored += o.scored;
    total.fallback += o.fallback;
    total.excluded += o.excluded;
    for (const [reason, n] of Object.entries(o.failures)) total.failures[reason] = (total.failures[reason] ?? 0) + (n ?? 0);
  }
  return total;
}
