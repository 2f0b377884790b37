import { createHash } from 'node:crypto';
import type { Rollout } from '../config/rollout';
import { canonicalJson } from '../util/canonical-json';
import { cleanResponse, readablePrompt, type ChatTemplateSettings } from './chat-template';
import type { ServedReward } from './run-requests';

// The request and answer shapes trainers already speak, translated to and from rollouts.

/** A request's idempotency key: the caller's own id, or a hash of what it sent. */
export function requestKey(requestId: string | undefined, kind: string, body: unknown): string {
  if (requestId !== undefined) return `r-${requestId}`;
  return `h-${createHash('sha256').update(kind).update('\0').update(canonicalJson(body)).digest('hex').slice(0, 24)}`;
}

/** A reference (label, reference answer) as text: strings as they are, anything else as JSON. */
function referenceText(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  return typeof value === 'string' ? value : JSON.stringify(value);
}

// ---- OpenRLHF remote reward model: {query, prompts, labels} -> {rewards, scores, extra_logs} ----

export interface OpenRlhfRequest {
  query: string[];
  prompts?: string[];
  labels?: unknown[];
}

/**
 * OpenRLHF (`openrlhf/utils/agent.py`, SingleTurnAgentExecutor) posts one sample per request:
 * `query` = the templated prompt and the response decoded together with their special tokens,
 * `prompts` = the templated prompt alone. The response is the query after its prompt (a query
 * that does not start with its prompt is scored whole), without end-of-turn or padding tokens;
 * the prompt is read through its chat template (`chat-template.ts`).
 */
export function openRlhfRollouts(body: OpenRlhfRequest, template: ChatTemplateSettings): Rollout[] {
  return body.query.map((query, i) => {
    const templated = body.prompts?.[i] ?? '';
    const raw = templated !== '' && query.startsWith(templated) ? query.slice(templated.length) : query;
    const prompt = readablePrompt(templated, template);
    const response = cleanResponse(raw, templated, template);
    const reference = referenceText(body.labels?.[i]);
    return { id: String(i), prompt, response, ...(reference !== undefined ? { reference } : {}) };
  });
}

/** OpenRLHF needs a number per sample: an excluded sample gets `fallback`, and extra_logs say so. */
export function openRlhfAnswer(step: number | undefined, rewards: ServedReward[], fallback: number) {
  const values = rewards.map((r) => r.reward ?? fallback);
  const stepNumber = step ?? -1;
  const is = (status: string) => rewards.map((r) => (r.status === status ? 1 : 0));
  return {
    rewards: values,
    scores: values,
    // OpenRLHF logs each key as a per-sample tensor: numbers only.
    extra_logs: {
      arbiter_step: rewards.map(() => stepNumber),
      arbiter_scored: is('scored'),
      arbiter_fallback: is('fallback'),
      arbiter_excluded: is('excluded'),
      arbiter_refused: is('refused'),
    },
    // Ignored by OpenRLHF; for people and other clients: why each number is what it is.
    arbiter: { step: step ?? null, status: rewards.map((r) => r.status), flags: rewards.map((r) => r.flags), reasons: rewards.map((r) => r.reason ?? null) },
  };
}

// ---- Amazon Nova RFT reward Lambda: [{id, messages, metadata: {reference_answer}}] -> [{id, aggregate_reward_score, metrics_list}] ----

export interface NovaMessage {
  role: string;
  content: unknown;
}
export interface NovaSample {
  id: string;
  messages: NovaMessage[];
  /** Bedrock's reward Lambda event: the training sample's other fields, `reference_answer` among them. */
  metadata?: { reference_answer?: unknown; [field: string]: unknown };
  /** SageMaker's documented event shape: the reference at the top level. */
  reference_answer?: unknown;
}

/**
 * Each sample travels as its trajectory (`messages`; `trajectory.ts` reads the last assistant
 * turn as the response and every turn before it, system messages included, as the prompt). The
 * reference is `metadata.reference_answer` (Bedrock's event), else `reference_answer`.
 */
export function novaRollouts(samples: NovaSample[]): unknown[] {
  return samples.map((sample, i) => {
    const reference = referenceText(sample.metadata?.reference_answer ?? sample.reference_answer);
    return { id: String(i), messages: sample.messages, ...(reference !== undefined ? { reference } : {}) };
  });
}

export function novaAnswer(samples: NovaSample[], step: number | undefined, rewards: ServedReward[], fallback: number) {
  return samples.map((sample, i) => {
    const r = rewards[i]!;
    const metrics = Object.entries(r.breakdown ?? {}).map(([name, value]) => ({ name, value, type: 'Metric' }));
    return {
      id: sample.id,
      aggregate_reward_score: r.reward ?? fallback,
      metrics_list: [
        ...metrics,
        { name: 'arbiter_scored', value: r.status === 'scored' ? 1 : 0, type: 'Metric' },
        { name: 'arbiter_fallback', value: r.status === 'fallback' ? 1 : 0, type: 'Metric' },
        { name: 'arbiter_excluded', value: r.status === 'excluded' ? 1 : 0, type: 'Metric' },
        { name: 'arbiter_refused', value: r.status === 'refused' ? 1 : 0, type: 'Metric' },
        { name: 'arbiter_step', value: step ?? -1, type: 'Metric' },
      ],
    };
  });
}
