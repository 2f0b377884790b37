import type { JudgeUsage } from './judge';

/** One turn of a judge conversation. Rollout text only ever appears inside `text`, delimited. */
export interface ChatMessage {
  role: 'user' | 'assistant';
  text: string;
  /**
   * How many leading characters of `text` every call of a group shares byte for byte (the
   * prompt and reference of GRPO's group): a model with prompt caching puts a cache point after
   * them, so the group pays for them once. Other models ignore it.
   */
  sharedPrefixChars?: number;
}

export interface ChatRequest {
  system: string;
  messages: ChatMessage[];
  temperature: number;
  maxTokens: number;
}

export interface ChatResponse {
  text: string;
  usage: JudgeUsage;
  latencyMs: number;
  /** Provider's stop reason, e.g. `end_turn`, `max_tokens`, `content_filtered`. */
  stopReason: string | undefined;
}

/**
 * A model behind an API (Bedrock Converse, OpenAI-compatible). It makes exactly one
 * request per call: retries are the caller's (see src/call-policy), so they never multiply with
 * an SDK's own retries and Temporal's.
 */
export interface ChatModel {
  readonly provider: string;
  readonly model: string;
  /** Whether calls carry cache points (Bedrock prompt caching); absent means no. */
  readonly promptCache?: boolean;
  complete(request: ChatRequest, signal?: AbortSignal): Promise<ChatResponse>;
}
