import { z } from 'zod';
import { RubricSchema } from './rubric';
import { SharedQuotaSchema } from './shared-quota';
import { DEFAULT_MAX_ATTEMPTS, DEFAULT_RECOVERY, DEFAULT_REQUEST_TIMEOUT_MS } from '../call-policy/judge-call-policy';

/**
 * Calls per minute and tokens per minute the provider grants this run, per worker process; with
 * `judge.sharedQuota`, `requestsPerMinute` is the whole account's, paced by Temporal for every process.
 */
export const QuotaSchema = z
  .object({
    requestsPerMinute: z.number().positive().default(600),
    tokensPerMinute: z.number().positive().optional(),
    /** Judge calls in flight at once in one worker process. */
    maxInFlight: z.number().int().min(1).max(1024).default(32),
    /** Requests (and tokens) that may go at once; default a tenth of a second of requests, a second of tokens. */
    burst: z
      .object({ requests: z.number().int().min(1).optional(), tokens: z.number().int().min(1).optional() })
      .strict()
      .optional(),
  })
  .strict()
  .prefault({});

/**
 * US dollars per million tokens, for cost estimates in step summaries. Prompt-cache reads and
 * writes default to the model family's ratio to the input price (0.1x/1.25x for Anthropic on
 * Bedrock, 0.25x/1x for Amazon Nova; see src/judges/prompt-cache-support.ts).
 */
export const PriceSchema = z
  .object({
    inputPerMTok: z.number().min(0),
    outputPerMTok: z.number().min(0),
    cacheReadPerMTok: z.number().min(0).optional(),
    cacheWritePerMTok: z.number().min(0).optional(),
  })
  .strict();

/** How a run compares responses in preference mode. */
export const PreferenceSettingsSchema = z
  .object({
    /** Pairs judged per group at most; larger groups get a balanced sample of pairs. */
    maxPairsPerGroup: z.number().int().min(1).max(1000).default(24),
    /**
     * Share of a response's planned comparisons that must succeed for its win rate to count;
     * below it the response gets the fallback. Above it, any failed comparison flags it.
     */
    minComparisonShare: z.number().min(0).max(1).default(0.5),
  })
  .strict();

const llmFields = {
  /** Bedrock model id or inference profile id (e.g. `us.anthropic.claude-3-5-haiku-20241022-v1:0`), or the server's model name. */
  model: z.string().min(1).max(2048),
  mode: z.enum(['rubric', 'preference']).default('rubric'),
  rubric: RubricSchema,
  temperature: z.number().min(0).max(2).default(0),
  maxTokens: z.number().int().min(16).max(32_768).default(1024),
  /** One model call may take this long before it counts as a timeout. */
  requestTimeoutMs: z.number().int().min(100).max(900_000).default(DEFAULT_REQUEST_TIMEOUT_MS),
  /** Tries of one call on throttling, 5xx and timeouts, with full-jitter backoff between them. */
  maxAttempts: z.number().int().min(1).max(20).default(DEFAULT_MAX_ATTEMPTS),
  quota: QuotaSchema,
  /**
   * The provider account shared with other worker processes and runs: chunks go to this task
   * queue, which Temporal paces at `quota.requestsPerMinute` for all of them and divides between
   * runs by weight (src/config/shared-quota.ts). Absent: each worker process paces on its own.
   */
  sharedQuota: SharedQuotaSchema.optional(),
  /**
   * A second chance within the step for samples whose judgement failed on something passing
   * (throttling, timeouts, 5xx): after `coolDownSeconds` they are judged again, through the
   * same limiter and retries, `passes` times, before any fallback is written.
   */
  recovery: z
    .object({
      coolDownSeconds: z.number().min(0).max(600).default(DEFAULT_RECOVERY.coolDownSeconds),
      passes: z.number().int().min(0).max(5).default(DEFAULT_RECOVERY.passes),
    })
    .strict()
    .prefault({}),
  preference: PreferenceSettingsSchema.prefault({}),
};

export const BedrockJudgeSchema = z
  .object({
    provider: z.literal('bedrock'),
    /** AWS region; the default chain (AWS_REGION, profile) when absent. Credentials always come from the default chain. */
    region: z.string().min(1).optional(),
    /**
     * Bedrock prompt caching of the rubric (the system prompt): absent = on where the model
     * supports it; true also for ids the table does not know (application inference profiles);
     * false = never.
     */
    promptCache: z.boolean().optional(),
    /**
     * With prompt caching on, also cache each group's prompt and reference (a second cache point;
     * the group's first call goes before the others). Default true; false caches the rubric only
     * (e.g. when no two rollouts of a step share a prompt, so nothing would be read back).
     */
    groupPromptCache: z.boolean().optional(),
    ...llmFields,
  })
  .strict();

export const OpenAiJudgeSchema = z
  .object({
    /** Any `/v1/chat/completions` server: vLLM, Ollama, llama.cpp, OpenAI. Key from OPENAI_API_KEY. */
    provider: z.literal('openai-compatible'),
    /** Base URL ending in `/v1`; OPENAI_BASE_URL when absent. */
    baseUrl: z.string().url().optional(),
    ...llmFields,
  })
  .strict();

export const OfflineJudgeSchema = z
  .object({
    /** Deterministic text heuristics, NOT an LLM: for demos and tests without credentials. */
    provider: z.literal('offline-heuristic'),
    /**
     * Preference mode compares the two responses' heuristic scores; on equal scores it picks the
     * response shown first (a position bias by design: see src/judges/offline-heuristic.ts).
     */
    mode: z.enum(['rubric', 'preference']).default('rubric'),
    /**
     * Token F1 with the reference that the `matches_reference` rule needs (0.3 when absent). A
     * higher value makes a stricter judge: with `weights`, a second offline judge to compare
     * the first with (cross-judge agreement in `arbiter judge validate`).
     */
    minReferenceF1: z.number().gt(0).max(1).optional(),
    /**
     * Each rule's weight in the score (defaults: non_empty 1, addresses_prompt 1,
     * matches_reference 2). With matches_reference 3 or more, no response passes (score ≥ 0.5)
     * without matching the reference: a stricter, differently weighted judge.
     */
    weights: z
      .object({
        non_empty: z.number().min(0).max(100).optional(),
        addresses_prompt: z.number().min(0).max(100).optional(),
        matches_reference: z.number().min(0).max(100).optional(),
      })
      .strict()
      .optional(),
    /** Preference mode in a run; the defaults of LLM judges when absent. */
    preference: PreferenceSettingsSchema.optional(),
  })
  .strict();

export const JudgeConfigSchema = z.discriminatedUnion('provider', [
  OfflineJudgeSchema,
  BedrockJudgeSchema,
  OpenAiJudgeSchema,
]);

export type JudgeConfig = z.output<typeof JudgeConfigSchema>;
export type LlmJudgeConfig = Extract<JudgeConfig, { provider: 'bedrock' | 'openai-compatible' }>;

/**
 * The judge by name, everywhere a person reads it (the CLI, the report, the Web UI):
 * `provider:model`, or for the offline heuristic a label saying it is not an LLM. `short` is
 * the form runs keep in their progress and search attributes (`offline-heuristic`), which
 * recorded histories hold and readers widen with `judgeLabel` again.
 */
export function judgeLabel(judge: { provider: string; model?: unknown }, options: { short?: boolean } = {}): string {
  if (judge.provider === 'offline-heuristic') return options.short ? OFFLINE_LABEL_SHORT : 'offline-heuristic (not an LLM)';
  return `${judge.provider}:${String(judge.model)}`;
}

const OFFLINE_LABEL_SHORT = 'offline-heuristic';

/** A label as a run keeps it, widened for people (the short offline label says nothing of what it is). */
export function judgeLabelForPeople(kept: string): string {
  return kept === OFFLINE_LABEL_SHORT ? judgeLabel({ provider: 'offline-heuristic' }) : kept;
}
