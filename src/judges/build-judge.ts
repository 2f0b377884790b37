import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Rollout } from '../config/rollout';
import { trajectoryPair } from '../config/trajectory';
import { PreferenceSettingsSchema, type JudgeConfig } from '../config/judge-config';
import { JudgeCache, judgeCacheKey } from '../cache/judge-cache';
import type { Judgement } from './judge';
import { LlmPreferenceJudge } from './llm-preference-judge';
import { LlmRubricJudge } from './llm-rubric-judge';
import { OfflineHeuristicJudge } from './offline-heuristic';
import type { PreferenceOutcome } from './preference';
import { rubricHash } from './rubric-hash';
import { governedChatModel } from './model-registry';
import { isS3Location, parseS3Location } from '../storage/location';

type Cached<T> = T & { cached?: boolean };

/** The judge of a run as the chunk scorer needs it: one mode, one identity, an optional cache. */
export interface JudgeHandle {
  identity: { provider: string; model: string; rubricHash?: string };
  mode: 'rubric' | 'preference';
  concurrency: number;
  maxPairsPerGroup: number;
  /** Preference: share of a response's planned comparisons that must succeed (default 0.5). */
  minComparisonShare?: number;
  /** Passes over transiently failed samples after a cool-down; none when absent. */
  recovery?: { coolDownMs: number; passes: number };
  /** `fresh`: ask the judge itself, never the cache (a canary measures the judge as it is now). */
  rubric(rollout: Rollout, signal?: AbortSignal, options?: { fresh?: boolean }): Promise<Cached<Judgement>>;
  compare(a: Rollout, b: Rollout, signal?: AbortSignal): Promise<Cached<PreferenceOutcome>>;
  /**
   * Whether the calls about this rollout's prompt share a cached prefix (group prompt caching):
   * then the group's first call goes before the others, so that one call writes the cache and
   * the rest read it. Absent for judges without prompt caching.
   */
  groupCached?(rollout: Rollout): boolean;
  close(): Promise<void>;
}

/** Builds the judge a run's config asks for, behind the judge cache when the run uses one. */
export async function buildJudge(config: JudgeConfig, options: { cacheDir?: string }): Promise<JudgeHandle> {
  if (config.provider === 'offline-heuristic') {
    const offline = new OfflineHeuristicJudge({ minReferenceF1: config.minReferenceF1, weights: config.weights });
    const preference = PreferenceSettingsSchema.parse(config.preference ?? {});
    return {
      identity: { provider: offline.provider, model: offline.model },
      mode: config.mode,
      concurrency: 16,
      maxPairsPerGroup: preference.maxPairsPerGroup,
      minComparisonShare: preference.minComparisonShare,
      rubric: (rollout) => offline.judge(rollout),
      compare: (a, b) => offline.compare(a, b),
      close: async () => {},
    };
  }

  const chat = governedChatModel(config);
  const hash = rubricHash(config.rubric);
  const asking = {
    chat,
    rubric: config.rubric,
    temperature: config.temperature,
    maxTokens: config.maxTokens,
    groupPromptCache: config.provider === 'bedrock' ? config.groupPromptCache : undefined,
  };
  const rubricJudge = new LlmRubricJudge(asking);
  const preferenceJudge = new LlmPreferenceJudge(asking);
  // One store for both modes: the mode is part of every key.
  const cache = options.cacheDir ? await JudgeCache.open<(Judgement | PreferenceOutcome) & { ok: true }>(options.cacheDir) : undefined;
  const params = { temperature: config.temperature, maxTokens: config.maxTokens };
  const base = { provider: config.provider, model: config.model, promptVersion: hash };

  return {
    identity: { provider: config.provider, model: config.model, rubricHash: hash },
    mode: config.mode,
    concurrency: config.quota.maxInFlight,
    maxPairsPerGroup: config.preference.maxPairsPerGroup,
    minComparisonShare: config.preference.minComparisonShare,
    recovery: { coolDownMs: config.recovery.coolDownSeconds * 1000, passes: config.recovery.passes },
    groupCached: (rollout) => (config.mode === 'rubric' ? rubricJudge : preferenceJudge).groupCached(rollout.prompt, rollout.reference),
    async rubric(rollout, signal, options) {
      const key = judgeCacheKey({
        ...base,
        mode: 'rubric',
        prompt: rollout.prompt,
        response: rollout.response,
        // A trajectory is shown to the judge under other headings than a prompt of the same text.
        params: { ...params, reference: rollout.reference ?? '', ...(rollout.messages && { trajectory: true }) },
      });
      const store = options?.fresh ? undefined : cache;
      const hit = store?.get(key) as (Judgement & { ok: true }) | undefined;
      if (hit) return { ...hit, cached: true };
      const judgement = await rubricJudge.judge(rollout, signal);
      if (judgement.ok && store) await store.put(key, judgement);
      return judgement;
    },
    async compare(first, second, signal) {
      const [a, b] = comparable(first, second);
      const key = judgeCacheKey({
        ...base,
        mode: 'preference',
        prompt: a.prompt,
        response: a.response,
        secondResponse: b.response,
        order: 'ab',
        params: { ...params, reference: a.reference ?? '' },
      });
      const hit = cache?.get(key) as (PreferenceOutcome & { ok: true }) | undefined;
      // The ids of this pair, not of whichever pair wrote the entry.
      if (hit) return { ...hit, a: a.id, b: b.id, cached: true };
      const outcome = await preferenceJudge.compare(a.prompt, a, b, signal);
      if (outcome.ok && cache) await cache.put(key, outcome);
      return outcome;
    },
    async close() {
      await cache?.close();
    },
  };
}

/**
 * Where a run's judge cache lives: `<outputDir>/.judge-cache`, an LMDB folder. A cache is not
 * truth (a miss only costs a judge call again), and LMDB needs a local disk: for an outputDir in
 * S3 each worker machine keeps its own, under ARBITER_JUDGE_CACHE_DIR (default: the temp folder).
 */
export function judgeCacheDir(outputDir: string, env: NodeJS.ProcessEnv = process.env): string {
  if (!isS3Location(outputDir)) return join(outputDir, '.judge-cache');
  const { bucket, key } = parseS3Location(outputDir);
  return join(env.ARBITER_JUDGE_CACHE_DIR || join(tmpdir(), 'arbiter-judge-cache'), bucket, ...key.split('/').filter((part) => part !== '' && part !== '.' && part !== '..'));
}

/** Two trajectories are compared by what differs: their shared turns become the prompt (trajectory.ts). */
function comparable<R extends Rollout>(a: R, b: R): [R, R] {
  if (!a.messages || !b.messages) return [a, b];
  const pair = trajectoryPair(a.messages, b.messages);
  return [
    { ...a, prompt: pair.prompt, response: pair.a },
    { ...b, prompt: pair.prompt, response: pair.b },
  ];
}
