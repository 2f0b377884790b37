/**
 * Which Bedrock models take a `cachePoint` in a Converse request, the smallest prefix they
 * cache, and how a cached token is priced against a normal input token.
 *
 * Sources (November 2026): the Bedrock user guide "Prompt caching for faster model inference"
 * (supported models and minimum tokens per cache checkpoint) and the Bedrock pricing page.
 * Anthropic models bill cache reads at 0.1x and cache writes at 1.25x the input price (5-minute
 * TTL); Amazon Nova bills cache reads at 0.25x and charges nothing extra for writes, so a
 * write costs what the input token would have. A prefix shorter than the minimum is not cached
 * (the call still succeeds, billed in full), which is why the minimum is recorded here: a rubric
 * shorter than it gains nothing from caching.
 */
export interface PromptCacheSupport {
  family: 'anthropic' | 'nova';
  /** Tokens the prefix before a cache point must reach for Bedrock to cache it. */
  minTokens: number;
  /** Cache-read price as a multiple of the model's input price. */
  readPriceRatio: number;
  /** Cache-write price as a multiple of the model's input price. */
  writePriceRatio: number;
}

const ANTHROPIC = { family: 'anthropic', readPriceRatio: 0.1, writePriceRatio: 1.25 } as const;
const NOVA = { family: 'nova', readPriceRatio: 0.25, writePriceRatio: 1 } as const;

/** Most specific first: the first pattern that matches the bare model id wins. */
const TABLE: [RegExp, PromptCacheSupport][] = [
  [/^anthropic\.claude-3-5-haiku-/, { ...ANTHROPIC, minTokens: 2048 }],
  [/^anthropic\.claude-3-7-sonnet-/, { ...ANTHROPIC, minTokens: 1024 }],
  [/^anthropic\.claude-haiku-4-5/, { ...ANTHROPIC, minTokens: 4096 }],
  [/^anthropic\.claude-opus-4-[56]/, { ...ANTHROPIC, minTokens: 4096 }],
  [/^anthropic\.claude-sonnet-4-6/, { ...ANTHROPIC, minTokens: 2048 }],
  [/^anthropic\.claude-(sonnet|opus)-4/, { ...ANTHROPIC, minTokens: 1024 }],
  [/^amazon\.nova-(micro|lite|pro|premier)-/, { ...NOVA, minTokens: 1000 }],
];

/**
 * The bare model id of a model id, a cross-region inference profile id (`us.`, `eu.`, `apac.`,
 * `global.`, ...) or a foundation-model / inference-profile ARN. Application inference profile
 * ARNs name no model: they get undefined support, and a run turns caching on for them by hand.
 */
export function bareModelId(model: string): string {
  const afterArn = model.startsWith('arn:') ? (model.split('/').pop() ?? model) : model;
  return afterArn.replace(/^(us|eu|apac|global|us-gov|jp|au|ca)\./, '');
}

export function promptCacheSupport(model: string): PromptCacheSupport | undefined {
  const bare = bareModelId(model);
  return TABLE.find(([pattern]) => pattern.test(bare))?.[1];
}

/**
 * Whether a run's Bedrock calls carry a cache point: the run's `promptCache` setting when given
 * (true also for model ids the table does not know, e.g. application inference profiles), else
 * on exactly where the model is known to support it.
 */
export function usePromptCache(model: string, setting: boolean | undefined): boolean {
  return setting ?? promptCacheSupport(model) !== undefined;
}

export interface TokenPrice {
  inputPerMTok: number;
  outputPerMTok: number;
  cacheReadPerMTok?: number | undefined;
  cacheWritePerMTok?: number | undefined;
}

/**
 * The run's price for a model with cache prices filled in: given ones stand; otherwise the
 * model family's ratio to the input price, or the input price itself for an unknown model
 * (no saving is claimed that the price table does not state).
 */
export function withCachePrices(price: TokenPrice, model: string | undefined): Required<TokenPrice> {
  const support = model === undefined ? undefined : promptCacheSupport(model);
  return {
    inputPerMTok: price.inputPerMTok,
    outputPerMTok: price.outputPerMTok,
    cacheReadPerMTok: price.cacheReadPerMTok ?? price.inputPerMTok * (support?.readPriceRatio ?? 1),
    cacheWritePerMTok: price.cacheWritePerMTok ?? price.inputPerMTok * (support?.writePriceRatio ?? 1),
  };
}

/**
 * What prompt caching will do for a run, in words (`arbiter config validate`): the rubric's
 * system prompt (≈4 characters a token) against the model's minimum cacheable prefix, and how
 * long a prompt (with its reference) must be for a group's document to be cached once per group
 * (the second cache point, after the prompt and reference; judges/llm-judge-base.ts).
 */
export function promptCachePlan(model: string, setting: boolean | undefined, systemPrompt: string): string {
  if (!usePromptCache(model, setting)) {
    return setting === false ? 'off (judge.promptCache: false)' : `off (${model} has no Bedrock prompt caching that Arbiter knows of)`;
  }
  const tokens = Math.ceil(systemPrompt.length / 4);
  const min = promptCacheSupport(model)?.minTokens;
  if (min === undefined) return `on (forced; the rubric prompt is ~${tokens} tokens, the model's minimum is unknown)`;
  const group =
    tokens >= min
      ? "each group's prompt and reference are cached too, whatever their length"
      : `a group's prompt and reference are cached with it once they reach ~${min - tokens} tokens (shorter ones are not cached)`;
  return tokens >= min
    ? `on: the rubric prompt (~${tokens} tokens) is cached, min ${min} for this model; ${group}`
    : `on, but no saving on the rubric: its prompt (~${tokens} tokens) is below the ${min} tokens this model caches; ${group}`;
}
