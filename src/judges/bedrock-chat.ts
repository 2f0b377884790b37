import {
  type ContentBlock,
  BedrockRuntimeClient,
  ConverseCommand,
  type BedrockRuntimeClientConfig,
  type ConverseCommandOutput,
} from '@aws-sdk/client-bedrock-runtime';
import { ChatCallError } from '../call-policy/chat-call-error';
import { type ChatModel, type ChatRequest, type ChatResponse } from './chat-model';
import { callDeadline } from './call-deadline';
import { retryAfterMs } from './retry-after';
import { DEFAULT_REQUEST_TIMEOUT_MS } from '../call-policy/judge-call-policy';
import { usePromptCache } from '../config/prompt-cache-support';

export const BEDROCK_PROVIDER = 'bedrock';

export interface BedrockClientOptions {
  /** Default: the AWS chain (`AWS_REGION`, `AWS_DEFAULT_REGION`, the profile's region). */
  region?: string;
  /**
   * For tests only. Deployments point the client elsewhere with the standard
   * `AWS_ENDPOINT_URL_BEDROCK_RUNTIME`, which the SDK reads itself.
   */
  endpoint?: string;
  /**
   * For tests only (static fake keys). Real credentials always come from the AWS default
   * chain, never from run config, so they never land in Temporal history or run files.
   */
  credentials?: BedrockRuntimeClientConfig['credentials'];
}

export interface BedrockChatModelOptions extends BedrockClientOptions {
  /** Model or inference profile id, or an ARN. */
  model: string;
  /** A shared client; build it with `createBedrockClient` so SDK retries stay off. */
  client?: BedrockRuntimeClient;
  /** Gives up on one call after this long, as a retryable `timeout`. */
  requestTimeoutMs?: number;
  /**
   * Marks the end of the system prompt with a cache point, so Bedrock bills the repeated
   * rubric at the cache-read price. Default: on where the model supports it
   * (prompt-cache-support.ts); a model that does not would reject the block.
   */
  promptCache?: boolean;
}

/**
 * A Bedrock Runtime client that makes exactly one HTTP request per call.
 *
 * `maxAttempts: 1` turns the SDK's own retries off: retries belong to our rate limiter
 * (which must see every throttle to adapt its rate) and to Temporal's activity retries.
 * Stacked, the SDK's 3 attempts would multiply with theirs, hide throttling from the limiter
 * and pay for calls nobody asked for.
 */
export function createBedrockClient(options: BedrockClientOptions = {}): BedrockRuntimeClient {
  return new BedrockRuntimeClient({
    maxAttempts: 1,
    ...(options.region !== undefined && { region: options.region }),
    ...(options.endpoint !== undefined && { endpoint: options.endpoint }),
    ...(options.credentials !== undefined && { credentials: options.credentials }),
  });
}

/** A judge model on Amazon Bedrock, through the Converse API. */
export class BedrockChatModel implements ChatModel {
  readonly provider = BEDROCK_PROVIDER;
  readonly model: string;
  private readonly client: BedrockRuntimeClient;
  private readonly ownsClient: boolean;
  private readonly requestTimeoutMs: number;
  readonly promptCache: boolean;

  constructor(options: BedrockChatModelOptions) {
    this.model = options.model;
    this.client = options.client ?? createBedrockClient(options);
    this.ownsClient = options.client === undefined;
    this.requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.promptCache = usePromptCache(options.model, options.promptCache);
  }

  async complete(request: ChatRequest, signal?: AbortSignal): Promise<ChatResponse> {
    const deadline = callDeadline(this.requestTimeoutMs, signal);
    const started = performance.now();
    let output: ConverseCommandOutput;
    try {
      output = await this.client.send(
        new ConverseCommand({
          modelId: this.model,
          // Bedrock rejects empty text blocks, so an empty system prompt is left out. The system
          // prompt is the rubric, byte-identical for every call of a run: the cache point after
          // it is the whole prefix Bedrock may cache (rollout text comes after, in the messages).
          ...(request.system !== '' && {
            system: this.promptCache ? [{ text: request.system }, { cachePoint: { type: 'default' } }] : [{ text: request.system }],
          }),
          messages: request.messages.map((m) => ({ role: m.role, content: this.contentOf(m) })),
          inferenceConfig: { temperature: request.temperature, maxTokens: request.maxTokens },
        }),
        { abortSignal: deadline.signal },
      );
    } catch (error) {
      const latencyMs = performance.now() - started;
      throw classifyBedrockError(error, this.model, latencyMs, deadline.cutShort(error));
    } finally {
      deadline.clear();
    }
    const latencyMs = performance.now() - started;
    const stopReason = output.stopReason;
    if (stopReason === 'content_filtered' || stopReason === 'guardrail_intervened') {
      throw new ChatCallError('refusal', `Bedrock ${this.model} stopped with ${stopReason}`, false, latencyMs, stopReason);
    }
    const text = (output.output?.message?.content ?? []).map((block) => block.text ?? '').join('');
    return {
      text,
      usage: {
        inputTokens: output.usage?.inputTokens ?? 0,
        outputTokens: output.usage?.outputTokens ?? 0,
        ...(output.usage?.cacheReadInputTokens && { cacheReadInputTokens: output.usage.cacheReadInputTokens }),
        ...(output.usage?.cacheWriteInputTokens && { cacheWriteInputTokens: output.usage.cacheWriteInputTokens }),
      },
      latencyMs,
      stopReason,
    };
  }

  /**
   * A message as Converse content: with prompt caching, a cache point after the part every call
   * of a group shares (the system prompt's point caches the rubric; this one the group's
   * document), so the two prefixes are cached and read apart. Bedrock rejects empty text blocks:
   * no point when either side would be empty.
   */
  private contentOf(m: ChatRequest['messages'][number]): ContentBlock[] {
    const at = m.sharedPrefixChars;
    if (!this.promptCache || at === undefined || at <= 0 || at >= m.text.length) return [{ text: m.text }];
    return [{ text: m.text.slice(0, at) }, { cachePoint: { type: 'default' } }, { text: m.text.slice(at) }];
  }

  /** Releases the client's connections when this model created it. */
  close(): void {
    if (this.ownsClient) this.client.destroy();
  }
}

const CREDENTIALS_HINT =
  'Credentials come from the AWS default chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN, ' +
  'AWS_PROFILE with ~/.aws/credentials or SSO, web identity, container or instance role); ' +
  'refresh them (e.g. `aws sso login`) or grant bedrock:InvokeModel, then restart the worker.';

const THROTTLED = new Set(['ThrottlingException', 'TooManyRequestsException', 'ServiceQuotaExceededException']);
const TIMEOUT = new Set(['ModelTimeoutException', 'TimeoutError', 'RequestTimeout', 'RequestTimeoutException']);
const SERVER = new Set([
  'ServiceUnavailableException',
  'InternalServerException',
  'InternalFailure',
  'ModelNotReadyException',
  'ModelErrorException',
]);
const AUTH = new Set([
  'AccessDeniedException',
  'UnrecognizedClientException',
  'ExpiredTokenException',
  'ExpiredToken',
  'InvalidSignatureException',
  'SignatureDoesNotMatch',
  'IncompleteSignature',
  'InvalidClientTokenId',
  'MissingAuthenticationTokenException',
  'CredentialsProviderError',
  'TokenProviderError',
]);
const NOT_FOUND = new Set(['ValidationException', 'ResourceNotFoundException']);
const NETWORK_TIMEOUT_CODES = new Set(['ETIMEDOUT', 'ESOCKETTIMEDOUT']);

interface AwsLikeError {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
  /** The raw HTTP answer, a hidden property the SDK sets on service errors. */
  $response?: { headers?: Record<string, string | undefined> };
}

/** Sorts an SDK or network failure into retryable and not, with a message safe to record. */
export function classifyBedrockError(error: unknown, model: string, latencyMs: number, aborted = false): ChatCallError {
  const e = (typeof error === 'object' && error !== null ? error : {}) as AwsLikeError;
  const name = e.name ?? 'Error';
  const status = e.$metadata?.httpStatusCode;
  const detail = `${name}${status !== undefined ? ` (HTTP ${status})` : ''}: ${e.message ?? String(error)}`;
  const code = name !== 'Error' ? name : (e.code ?? (status !== undefined ? String(status) : undefined));
  const headers = e.$response?.headers ?? {};
  const wait = retryAfterMs((name) => headers[name] ?? Object.entries(headers).find(([k]) => k.toLowerCase() === name)?.[1]);
  const fail = (reason: ChatCallError['reason'], message: string, retryable: boolean): ChatCallError =>
    new ChatCallError(reason, message, retryable, latencyMs, code, retryable ? wait : undefined);
  const authFailure = (): ChatCallError =>
    fail('auth', `Bedrock refused the credentials for ${model}: ${detail}. ${CREDENTIALS_HINT}`, false);

  if (aborted || name === 'AbortError') return fail('timeout', `Bedrock ${model} did not answer in time (${detail})`, true);
  // Names first: ModelNotReadyException comes as a 429 but is a model warming up, not our rate.
  if (THROTTLED.has(name)) return fail('throttled', `Bedrock ${model} throttled the call: ${detail}`, true);
  if (TIMEOUT.has(name) || (e.code !== undefined && NETWORK_TIMEOUT_CODES.has(e.code))) {
    return fail('timeout', `Bedrock ${model} timed out: ${detail}`, true);
  }
  if (AUTH.has(name)) return authFailure();
  if (e.message === 'Region is missing') {
    return fail('auth', 'No AWS region for Bedrock: set AWS_REGION (or a region in the AWS profile).', false);
  }
  if (NOT_FOUND.has(name)) {
    return fail(
      'server',
      `Bedrock rejected the call to model ${model} (check the model or inference profile id and its region): ${detail}`,
      false,
    );
  }
  if (SERVER.has(name)) return fail('server', `Bedrock ${model} failed: ${detail}`, true);
  if (status === 429) return fail('throttled', `Bedrock ${model} throttled the call: ${detail}`, true);
  if (status === 408) return fail('timeout', `Bedrock ${model} timed out: ${detail}`, true);
  if (status === 401 || status === 403) return authFailure();
  if (status !== undefined && status >= 500) return fail('server', `Bedrock ${model} failed: ${detail}`, true);
  if (status !== undefined && status >= 400) {
    return fail('server', `Bedrock rejected the call to model ${model}: ${detail}`, false);
  }
  // No HTTP answer at all: a dropped or refused connection, usually gone on the next try.
  return fail('server', `Bedrock ${model} call failed without an answer: ${detail}${e.code ? ` [${e.code}]` : ''}`, true);
}
