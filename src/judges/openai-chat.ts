import { ChatCallError } from '../call-policy/chat-call-error';
import { type ChatModel, type ChatRequest, type ChatResponse } from './chat-model';
import { callDeadline } from './call-deadline';
import { DEFAULT_REQUEST_TIMEOUT_MS } from '../call-policy/judge-call-policy';
import { retryAfterMs } from './retry-after';

export const OPENAI_PROVIDER = 'openai-compatible';
const DEFAULT_BASE_URL = 'https://api.openai.com/v1';
/** Enough of an error body to say what went wrong, not enough to flood a failure record. */
const MAX_DETAIL_CHARS = 500;

export interface OpenAiChatModelOptions {
  model: string;
  /** Default: `OPENAI_BASE_URL`, else the OpenAI API. vLLM, Ollama, llama.cpp: `http://host:port/v1`. */
  baseUrl?: string;
  /** Default: `OPENAI_API_KEY`; local servers usually need none. */
  apiKey?: string;
  /** Gives up on one call after this long, as a retryable `timeout`. */
  requestTimeoutMs?: number;
}

interface CompletionBody {
  choices?: { message?: { content?: string | null; refusal?: string | null }; finish_reason?: string | null }[];
  usage?: { prompt_tokens?: number; completion_tokens?: number };
}

/** A judge model behind an OpenAI-compatible `/chat/completions` endpoint. One request per call. */
export class OpenAiChatModel implements ChatModel {
  readonly provider = OPENAI_PROVIDER;
  readonly model: string;
  private readonly url: string;
  private readonly apiKey: string | undefined;
  private readonly requestTimeoutMs: number;

  constructor(options: OpenAiChatModelOptions) {
    this.model = options.model;
    const baseUrl = options.baseUrl ?? process.env.OPENAI_BASE_URL ?? DEFAULT_BASE_URL;
    this.url = `${baseUrl.replace(/\/+$/, '')}/chat/completions`;
    const apiKey = options.apiKey ?? process.env.OPENAI_API_KEY;
    this.apiKey = apiKey === '' ? undefined : apiKey;
    this.requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  }

  async complete(request: ChatRequest, signal?: AbortSignal): Promise<ChatResponse> {
    const deadline = callDeadline(this.requestTimeoutMs, signal);
    const started = performance.now();
    let status: number;
    let raw: string;
    let wait: number | undefined;
    try {
      const response = await fetch(this.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(this.apiKey !== undefined && { authorization: `Bearer ${this.apiKey}` }),
        },
        body: JSON.stringify({
          model: this.model,
          messages: [
            ...(request.system !== '' ? [{ role: 'system', content: request.system }] : []),
            ...request.messages.map((m) => ({ role: m.role, content: m.text })),
          ],
          temperature: request.temperature,
          // `max_tokens` rather than `max_completion_tokens`: the one vLLM, Ollama and llama.cpp all read.
          max_tokens: request.maxTokens,
        }),
        signal: deadline.signal,
      });
      status = response.status;
      wait = retryAfterMs((name) => response.headers.get(name));
      // Read under the same deadline: a server can stall mid-body as well as before headers.
      raw = await response.text();
    } catch (error) {
      const latencyMs = performance.now() - started;
      throw this.networkFailure(error, latencyMs, deadline.cutShort(error));
    } finally {
      deadline.clear();
    }
    const latencyMs = performance.now() - started;
    if (status < 200 || status >= 300) throw this.httpFailure(status, raw, latencyMs, wait);

    let body: CompletionBody;
    try {
      body = JSON.parse(raw) as CompletionBody;
    } catch {
      throw new ChatCallError('server', `${this.where()} answered ${status} with a body that is not JSON: ${this.redact(raw)}`, true, latencyMs, String(status));
    }
    const choice = body.choices?.[0];
    const finishReason = choice?.finish_reason ?? undefined;
    if (finishReason === 'content_filter' || (choice?.message?.refusal ?? '') !== '') {
      const why = choice?.message?.refusal ? `: ${this.redact(choice.message.refusal)}` : '';
      throw new ChatCallError('refusal', `${this.where()} refused to answer (${finishReason ?? 'refusal'})${why}`, false, latencyMs, finishReason ?? 'refusal');
    }
    return {
      text: choice?.message?.content ?? '',
      usage: { inputTokens: body.usage?.prompt_tokens ?? 0, outputTokens: body.usage?.completion_tokens ?? 0 },
      latencyMs,
      stopReason: finishReason,
    };
  }

  private httpFailure(status: number, raw: string, latencyMs: number, wait: number | undefined): ChatCallError {
    const detail = `${this.where()} answered HTTP ${status}: ${this.redact(errorDetail(raw))}`;
    const fail = (reason: ChatCallError['reason'], message: string, retryable: boolean): ChatCallError =>
      new ChatCallError(reason, message, retryable, latencyMs, String(status), retryable ? wait : undefined);
    if (status === 429) return fail('throttled', detail, true);
    if (status === 401 || status === 403) {
      const keyHint = this.apiKey === undefined ? 'no API key was sent' : 'the API key was refused';
      return fail('auth', `${detail} (${keyHint}; the key comes from OPENAI_API_KEY)`, false);
    }
    if (status === 408) return fail('timeout', detail, true);
    if (status >= 500) return fail('server', detail, true);
    if (status === 404) return fail('server', `${detail} (check the base URL and the model name ${this.model})`, false);
    return fail('server', detail, false);
  }

  private networkFailure(error: unknown, latencyMs: number, aborted: boolean): ChatCallError {
    const code = errorCode(error);
    const message = error instanceof Error ? error.message : String(error);
    const cause = code !== undefined ? ` [${code}]` : '';
    if (aborted) return new ChatCallError('timeout', `${this.where()} did not answer within ${this.requestTimeoutMs} ms`, true, latencyMs, 'timeout');
    if (code !== undefined && /TIMEOUT|TIMEDOUT/i.test(code)) {
      return new ChatCallError('timeout', `${this.where()} timed out: ${this.redact(message)}${cause}`, true, latencyMs, code);
    }
    // No HTTP answer: a refused or dropped connection, usually gone on the next try.
    return new ChatCallError('server', `${this.where()} call failed without an answer: ${this.redact(message)}${cause}`, true, latencyMs, code);
  }

  private where(): string {
    return `${this.url} (model ${this.model})`;
  }

  /** Some servers echo the bearer token back in error bodies; it never reaches a record. */
  private redact(text: string): string {
    const clipped = text.length > MAX_DETAIL_CHARS ? `${text.slice(0, MAX_DETAIL_CHARS)}…` : text;
    return this.apiKey === undefined ? clipped : clipped.split(this.apiKey).join('[redacted]');
  }
}

/** `{"error": {"message": ...}}` (OpenAI, vLLM), `{"error": "..."}` (Ollama), or the raw body. */
function errorDetail(raw: string): string {
  try {
    const parsed = JSON.parse(raw) as { error?: unknown; message?: unknown };
    const error = parsed.error;
    if (typeof error === 'string') return error;
    if (typeof error === 'object' && error !== null) {
      const { message, code, type } = error as { message?: unknown; code?: unknown; type?: unknown };
      const tag = [type, code].filter((x) => typeof x === 'string' && x !== '').join('/');
      if (typeof message === 'string') return tag ? `${message} (${tag})` : message;
    }
    if (typeof parsed.message === 'string') return parsed.message;
  } catch {
    // Not JSON: the body itself says what happened.
  }
  return raw;
}

/** fetch wraps socket errors: `TypeError: fetch failed` with the real code in `cause`. */
function errorCode(error: unknown): string | undefined {
  for (let e: unknown = error, depth = 0; e && typeof e === 'object' && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}
