import type { ChatModel, ChatRequest, ChatResponse } from './chat-model';
import { ChatCallError } from '../call-policy/chat-call-error';
import { JUDGE_CALL_BACKOFF } from '../call-policy/judge-call-policy';
import { callWithRetries } from '../call-policy/call-with-retries';
import type { QuotaLimiter } from '../call-policy/quota-limiter';
import { recordJudgeCall, recordLimiter } from '../metrics/arbiter-metrics';

export interface GovernedChatOptions {
  limiter: QuotaLimiter;
  maxAttempts: number;
}

/** Rough tokens of a request before it is sent (≈4 characters a token), plus the output reserve. */
export function estimateRequestTokens(request: ChatRequest): number {
  const chars = request.system.length + request.messages.reduce((n, m) => n + m.text.length, 0);
  return Math.ceil(chars / 4) + request.maxTokens;
}

/**
 * A ChatModel that waits for the quota before each call, tells the limiter how the call went
 * (throttling slows everyone down, success lets the rate grow back), and retries throttling,
 * 5xx and timeouts with full-jitter backoff. This is the one retry layer around a model call.
 */
export class GovernedChatModel implements ChatModel {
  readonly provider: string;
  readonly model: string;
  readonly promptCache: boolean;

  constructor(
    private readonly inner: ChatModel,
    private readonly options: GovernedChatOptions,
  ) {
    this.provider = inner.provider;
    this.model = inner.model;
    this.promptCache = inner.promptCache ?? false;
  }

  async complete(request: ChatRequest, signal?: AbortSignal): Promise<ChatResponse> {
    const estimate = estimateRequestTokens(request);
    const { value } = await callWithRetries(
      async () => {
        const { limiter } = this.options;
        const permit = await limiter.acquire(estimate, signal);
        try {
          const response = await this.inner.complete(request, signal);
          // Cache writes count against a tokens-per-minute quota; cache reads do not (Bedrock).
          const { inputTokens, outputTokens, cacheWriteInputTokens = 0 } = response.usage;
          permit.release({ outcome: 'ok', actualTokens: inputTokens + outputTokens + cacheWriteInputTokens });
          recordJudgeCall(this.model, 'ok', response.latencyMs, response.usage);
          return response;
        } catch (err) {
          const throttled = err instanceof ChatCallError && err.reason === 'throttled';
          permit.release({ outcome: throttled ? 'throttled' : 'error' });
          // Only model failures are calls that ended; a cancellation is not an outcome of the model.
          if (err instanceof ChatCallError) recordJudgeCall(this.model, err.reason, err.latencyMs);
          throw err;
        } finally {
          recordLimiter(this.model, limiter.snapshot());
        }
      },
      {
        maxAttempts: this.options.maxAttempts,
        ...JUDGE_CALL_BACKOFF,
        signal,
      },
    );
    return value;
  }
}
