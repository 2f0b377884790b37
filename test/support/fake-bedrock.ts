import { createHash, randomUUID } from 'node:crypto';
import { createServer, constants, type Http2Server, type Http2Session, type ServerHttp2Stream } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { seededRandom } from '../../src/util/seeded-random';
import { promptCacheSupport } from '../../src/config/prompt-cache-support';

/**
 * A local fake of the Bedrock Runtime Converse API: a real network peer for the real
 * BedrockRuntimeClient (tests, benchmarks), never a replaced module.
 *
 * It is a cleartext HTTP/2 server because the SDK's default Node request handler speaks
 * HTTP/2 only; an HTTP/1.1 server makes the client fail with `ERR_HTTP2_ERROR`.
 */

/** What one call did wrong (or specially), instead of a normal answer. */
export type Fault =
  | { type: 'throttle'; message?: string }
  | { type: 'error'; status: number; errorType: string; message?: string }
  /** Never answers; the stream stays open until the client gives up or the server closes. */
  | { type: 'hang' }
  /** Resets the stream mid-call, as a dropped connection would. */
  | { type: 'reset' }
  /** A specific assistant answer (prose, malformed JSON, ...). */
  | { type: 'text'; text: string; stopReason?: string }
  | { type: 'refusal'; stopReason?: 'content_filtered' | 'guardrail_intervened' | 'end_turn'; text?: string };

/** A content block as Converse takes it: text, or a cache point marking the end of a cacheable prefix. */
export interface ContentBlock {
  text?: string;
  cachePoint?: { type?: string };
}

export interface ConverseRequestBody {
  messages?: { role?: string; content?: ContentBlock[] }[];
  system?: ContentBlock[];
  inferenceConfig?: { maxTokens?: number; temperature?: number };
}

export interface FakeCall {
  /** 1-based number of the call since start (or the last `reset()`). */
  n: number;
  modelId: string;
  body: ConverseRequestBody;
}

/** A queue consumed one entry per call (`undefined` = answer normally), or a per-call choice. */
export type FaultScript = (Fault | undefined)[] | ((call: FakeCall) => Fault | undefined);

export interface FakeBedrockOptions {
  /** Time to answer a call the model answers (fixed, or uniform in [min, max]). Errors are immediate. */
  latencyMs?: number | [number, number];
  /** Requests per second per account, as a token bucket; beyond it calls get 429 ThrottlingException. */
  quota?: { requestsPerSecond: number; burst?: number };
  /** Tokens per minute (input + maxTokens reserved per call, as Bedrock does); beyond it, 429. */
  tokensPerMinute?: number;
  /**
   * A throttling storm: from the `afterRequests`-th request on (counted since start or the last
   * `reset()`), every call for `durationMs` of wall time is throttled, as during a regional
   * capacity squeeze. Setting it again re-arms it.
   */
  storm?: { afterRequests: number; durationMs: number };
  /** Sent as the `retry-after` header (seconds) with every 429 throttling answer. */
  retryAfterSeconds?: number;
  /** Fraction of calls (after faults and quotas) that fail with a random status of `failureStatuses`. */
  failureRate?: number;
  failureStatuses?: (500 | 503)[];
  faults?: FaultScript;
  /** The assistant text of a normal call. Default: `defaultRespond` (a passing verdict). */
  respond?: (call: FakeCall) => string;
  /** When set, any other model id gets the ValidationException Bedrock gives for unknown models. */
  models?: string[];
  /**
   * Prompt caching as Bedrock does it. A model with a minimum here takes cache points; any other
   * model answers a request with a cache point with a ValidationException. A prefix (everything
   * before a cache point) of at least the minimum, seen within `ttlMs` (default 5 minutes, renewed
   * by each hit), is reported as `cacheReadInputTokens`; the first time as `cacheWriteInputTokens`;
   * either way those tokens are left out of `inputTokens`. Cache points may sit in the system
   * prompt and in message content, at most four per request (more is a ValidationException); the
   * prefix of each is everything before it. Default minimums: Bedrock's, from
   * src/judges/prompt-cache-support.ts.
   */
  promptCache?: { minTokens?: (modelId: string) => number | undefined; ttlMs?: number };
  /** Seed of the fake's randomness (latency, failures), so runs repeat exactly. */
  seed?: number;
  /** Distinct prompt hashes counted before further ones go to `untrackedPrompts`. */
  maxTrackedPrompts?: number;
  host?: string;
  port?: number;
}

export interface FakeBedrockStats {
  /** Converse requests received (hung ones included). */
  requests: number;
  /** HTTP 200 answers, refusals and scripted texts included. */
  ok: number;
  throttled: number;
  hangs: number;
  resets: number;
  refusals: number;
  /** Error answers other than throttling, by HTTP status. */
  errorsByStatus: Record<number, number>;
  callsByModel: Record<string, number>;
  /** Calls per `promptHash` of the first user message, i.e. per judged rollout. */
  callsByPromptHash: Map<string, number>;
  untrackedPrompts: number;
  /** Input tokens billed at the full price (cached prefixes left out, as Bedrock reports them). */
  inputTokens: number;
  outputTokens: number;
  cacheReadInputTokens: number;
  cacheWriteInputTokens: number;
  inFlight: number;
  maxInFlight: number;
  /** The request that started the throttling storm, once it has started. */
  stormStartedAtRequest?: number;
}

export interface FakeBedrock {
  /** Base URL for the client's `endpoint` or `AWS_ENDPOINT_URL_BEDROCK_RUNTIME`. */
  url: string;
  port: number;
  /** Live counters (mutated in place; `reset()` zeroes them). */
  stats: FakeBedrockStats;
  setOptions(partial: Partial<FakeBedrockOptions>): void;
  /** Zeroes stats and the call counter and refills quotas; options stay. */
  reset(): void;
  /** Closes every session, hung ones included, and stops listening. */
  close(): Promise<void>;
}

/** Error shapes as Bedrock sends them: the SDK reads the type from `x-amzn-errortype`. */
export const bedrockErrors = {
  throttling: { type: 'error', status: 429, errorType: 'ThrottlingException', message: 'Too many requests, please wait before trying again.' },
  serviceUnavailable: { type: 'error', status: 503, errorType: 'ServiceUnavailableException', message: 'Bedrock is unable to process your request.' },
  internal: { type: 'error', status: 500, errorType: 'InternalServerException', message: 'The server encountered an internal error.' },
  modelTimeout: { type: 'error', status: 408, errorType: 'ModelTimeoutException', message: 'Model has timed out in processing the request.' },
  modelNotReady: { type: 'error', status: 429, errorType: 'ModelNotReadyException', message: 'Model is not ready to serve inference requests.' },
  validation: { type: 'error', status: 400, errorType: 'ValidationException', message: 'The provided model identifier is invalid.' },
  accessDenied: { type: 'error', status: 403, errorType: 'AccessDeniedException', message: 'You don\'t have access to the model with the specified model ID.' },
  expiredToken: { type: 'error', status: 403, errorType: 'ExpiredTokenException', message: 'The security token included in the request is expired' },
  unrecognizedClient: { type: 'error', status: 403, errorType: 'UnrecognizedClientException', message: 'The security token included in the request is invalid.' },
} as const satisfies Record<string, Fault>;

/**
 * The hash `stats.callsByPromptHash` is keyed by. Judge prompts wrap rollout text in
 * delimiters with a fresh random nonce per call; the nonce is dropped so that judging the
 * same rollout twice counts twice.
 */
export function promptHash(firstUserMessage: string): string {
  const stable = firstUserMessage.replace(/<<<(END_)?([A-Z][A-Z0-9_]*?)_[A-Za-z0-9]{1,64}>>>/g, '<<<$1$2>>>');
  return createHash('sha256').update(stable).digest('hex').slice(0, 32);
}

/** Token counts as the fake bills them: about four characters per token. */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

const MAX_BODY_BYTES = 10 * 1024 * 1024;
const PATH = /^\/model\/([^/?]+)\/converse(?:\?.*)?$/;

export async function startFakeBedrock(initial: FakeBedrockOptions = {}): Promise<FakeBedrock> {
  let options: FakeBedrockOptions = { ...initial };
  let faultQueue: (Fault | undefined)[] = Array.isArray(initial.faults) ? [...initial.faults] : [];
  let random = seededRandom(initial.seed ?? 1);
  let callNumber = 0;
  let requestBucket = makeRequestBucket(options);
  let tokenBucket = makeTokenBucket(options);
  let stormStartedAt: number | undefined;
  /** Cached prefixes by model and hash: when each expires. Kept across `reset()`, like Bedrock's. */
  const promptCache = new Map<string, number>();

  const stats = emptyStats();
  const sessions = new Set<Http2Session>();
  const timers = new Set<NodeJS.Timeout>();

  const server: Http2Server = createServer();
  server.on('session', (session) => {
    sessions.add(session);
    session.on('close', () => sessions.delete(session));
    // A session torn down by close() or a client reset must not crash the test process.
    session.on('error', () => {});
  });
  server.on('stream', (stream, headers) => {
    stream.on('error', () => {});
    const path = String(headers[constants.HTTP2_HEADER_PATH] ?? '');
    const method = String(headers[constants.HTTP2_HEADER_METHOD] ?? '');
    const match = PATH.exec(path);
    if (method !== 'POST' || !match?.[1]) {
      sendError(stream, 404, 'UnknownOperationException', `no such operation: ${method} ${path}`);
      return;
    }
    const modelId = safeDecode(match[1]);
    const hasAuth = headers[constants.HTTP2_HEADER_AUTHORIZATION] !== undefined;
    readBody(stream)
      .then((raw) => handleConverse(stream, modelId, raw, hasAuth))
      .catch(() => {
        if (!stream.destroyed) stream.close(constants.NGHTTP2_INTERNAL_ERROR);
      });
  });

  async function handleConverse(stream: ServerHttp2Stream, modelId: string, raw: string, hasAuth: boolean): Promise<void> {
    stats.requests++;
    stats.callsByModel[modelId] = (stats.callsByModel[modelId] ?? 0) + 1;
    stats.inFlight++;
    stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight);
    let hung = false;
    try {
      let body: ConverseRequestBody;
      try {
        body = JSON.parse(raw) as ConverseRequestBody;
      } catch {
        return countedError(stream, 400, 'SerializationException', 'request body is not JSON');
      }
      if (!hasAuth) return countedError(stream, 403, 'MissingAuthenticationTokenException', 'Missing Authentication Token');
      if (options.models && !options.models.includes(modelId)) {
        return countedError(stream, 400, 'ValidationException', 'The provided model identifier is invalid.');
      }
      const invalid = validateConversation(body);
      if (invalid) return countedError(stream, 400, 'ValidationException', invalid);

      const call: FakeCall = { n: ++callNumber, modelId, body };
      countPrompt(body);
      if (inStorm()) return throttle(stream);
      const fault = nextFault(call);
      const cache = cacheLookup(modelId, body);
      if (cache !== 'unsupported' && cache.points > MAX_CACHE_POINTS) {
        return countedError(stream, 400, 'ValidationException', `A maximum of ${MAX_CACHE_POINTS} blocks with cache_control may be provided. Found ${cache.points}.`);
      }
      if (cache === 'unsupported') {
        return countedError(stream, 400, 'ValidationException', 'You invoked an unsupported model or your request did not allow prompt caching. See the documentation for more information.');
      }
      const inputTokens = estimateTokens(requestText(body)) - cache.read - cache.write;

      if (fault) {
        switch (fault.type) {
          case 'throttle':
            return throttle(stream, fault.message);
          case 'error':
            return countedError(stream, fault.status, fault.errorType, fault.message ?? fault.errorType);
          case 'hang':
            stats.hangs++;
            hung = true;
            // Counted out of flight when the client (or close()) ends the stream.
            stream.once('close', () => stats.inFlight--);
            return;
          case 'reset':
            stats.resets++;
            stream.close(constants.NGHTTP2_INTERNAL_ERROR);
            return;
        }
      }
      if (!requestBucket.take(1)) return throttle(stream);
      // Cache reads do not count towards Bedrock's tokens-per-minute quota; writes do.
      const reserved = inputTokens + cache.write + (body.inferenceConfig?.maxTokens ?? 0);
      if (!tokenBucket.take(reserved)) return throttle(stream, 'Too many tokens, please wait before trying again.');
      if (!fault && options.failureRate && random() < options.failureRate) {
        const statuses = options.failureStatuses?.length ? options.failureStatuses : [500, 503];
        const status = statuses[Math.floor(random() * statuses.length)] ?? 500;
        const shape = status === 503 ? bedrockErrors.serviceUnavailable : bedrockErrors.internal;
        return countedError(stream, status, shape.errorType, shape.message);
      }

      let text: string;
      let stopReason = 'end_turn';
      if (fault?.type === 'text') {
        text = fault.text;
        stopReason = fault.stopReason ?? stopReason;
      } else if (fault?.type === 'refusal') {
        stats.refusals++;
        stopReason = fault.stopReason ?? 'content_filtered';
        text = fault.text ?? (stopReason === 'guardrail_intervened' ? 'Sorry, the model cannot answer this question.' : '');
      } else {
        text = (options.respond ?? defaultRespond)(call);
      }

      const started = performance.now();
      await sleepUnlessClosed(stream, pickLatency());
      if (stream.destroyed || stream.closed) return;
      const outputTokens = estimateTokens(text);
      cache.commit();
      stats.ok++;
      stats.inputTokens += inputTokens;
      stats.outputTokens += outputTokens;
      stats.cacheReadInputTokens += cache.read;
      stats.cacheWriteInputTokens += cache.write;
      respondJson(stream, 200, {
        output: { message: { role: 'assistant', content: text === '' ? [] : [{ text }] } },
        stopReason,
        usage: {
          inputTokens,
          outputTokens,
          totalTokens: inputTokens + outputTokens + cache.read + cache.write,
          // Bedrock sends both fields once the request has a cache point, zero or not.
          ...(cache.points > 0 && { cacheReadInputTokens: cache.read, cacheWriteInputTokens: cache.write }),
        },
        metrics: { latencyMs: Math.round(performance.now() - started) },
      });
    } finally {
      if (!hung) stats.inFlight--;
    }
  }

  /**
   * What a call reads from and writes to the prompt cache; nothing is stored until `commit()`
   * (the call succeeded). The longest cached prefix is read; the last cache point's prefix, if
   * longer and long enough, is written.
   */
  function cacheLookup(
    modelId: string,
    body: ConverseRequestBody,
  ): { points: number; read: number; write: number; commit: () => void } | 'unsupported' {
    const prefixes = cachePrefixes(body);
    const none = { points: 0, read: 0, write: 0, commit: () => {} };
    if (prefixes.length === 0) return none;
    const minTokens = (options.promptCache?.minTokens ?? defaultCacheMinTokens)(modelId);
    if (minTokens === undefined) return 'unsupported';
    const ttlMs = options.promptCache?.ttlMs ?? 5 * 60_000;
    const now = performance.now();
    const eligible = prefixes
      .map((text) => ({ key: `${modelId}|${createHash('sha256').update(text).digest('hex')}`, tokens: estimateTokens(text) }))
      .filter((p) => p.tokens >= minTokens);
    const hit = [...eligible].reverse().find((p) => (promptCache.get(p.key) ?? 0) > now);
    const last = eligible.at(-1);
    const read = hit?.tokens ?? 0;
    const write = last && last.tokens > read ? last.tokens - read : 0;
    return {
      points: prefixes.length,
      read,
      write,
      // Every cache point long enough is a cache entry of its own (a call with the rubric and a
      // group's document caches both, so the next group still reads the rubric); a hit renews it.
      commit: () => {
        for (const p of eligible) promptCache.set(p.key, now + ttlMs);
      },
    };
  }

  function inStorm(): boolean {
    const storm = options.storm;
    if (!storm) return false;
    if (stormStartedAt === undefined) {
      if (stats.requests < storm.afterRequests) return false;
      stormStartedAt = performance.now();
      stats.stormStartedAtRequest = stats.requests;
    }
    return performance.now() - stormStartedAt < storm.durationMs;
  }

  function nextFault(call: FakeCall): Fault | undefined {
    if (typeof options.faults === 'function') return options.faults(call);
    return faultQueue.shift();
  }

  function countPrompt(body: ConverseRequestBody): void {
    const first = body.messages?.find((m) => m.role === 'user');
    const hash = promptHash(contentText(first?.content));
    const seen = stats.callsByPromptHash.get(hash);
    if (seen !== undefined) stats.callsByPromptHash.set(hash, seen + 1);
    else if (stats.callsByPromptHash.size < (options.maxTrackedPrompts ?? 100_000)) stats.callsByPromptHash.set(hash, 1);
    else stats.untrackedPrompts++;
  }

  function throttle(stream: ServerHttp2Stream, message?: string): void {
    stats.throttled++;
    const retryAfter = options.retryAfterSeconds;
    sendError(stream, 429, 'ThrottlingException', message ?? bedrockErrors.throttling.message, retryAfter === undefined ? {} : { 'retry-after': String(retryAfter) });
  }

  function countedError(stream: ServerHttp2Stream, status: number, errorType: string, message: string): void {
    stats.errorsByStatus[status] = (stats.errorsByStatus[status] ?? 0) + 1;
    sendError(stream, status, errorType, message);
  }

  function pickLatency(): number {
    const latency = options.latencyMs ?? 0;
    if (typeof latency === 'number') return latency;
    const [min, max] = latency;
    return min + random() * (max - min);
  }

  function sleepUnlessClosed(stream: ServerHttp2Stream, ms: number): Promise<void> {
    if (ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        timers.delete(timer);
        stream.off('close', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      timers.add(timer);
      stream.once('close', done);
    });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(initial.port ?? 0, initial.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const host = initial.host ?? '127.0.0.1';

  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    stats,
    setOptions(partial) {
      options = { ...options, ...partial };
      if ('faults' in partial) faultQueue = Array.isArray(partial.faults) ? [...partial.faults] : [];
      if ('seed' in partial) random = seededRandom(partial.seed ?? 1);
      if ('quota' in partial) requestBucket = makeRequestBucket(options);
      if ('tokensPerMinute' in partial) tokenBucket = makeTokenBucket(options);
      if ('storm' in partial) stormStartedAt = undefined;
    },
    reset() {
      Object.assign(stats, emptyStats(), { inFlight: stats.inFlight });
      callNumber = 0;
      stormStartedAt = undefined;
      requestBucket = makeRequestBucket(options);
      tokenBucket = makeTokenBucket(options);
    },
    close() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const session of sessions) session.destroy();
      });
    },
  };
}

function emptyStats(): FakeBedrockStats {
  return {
    requests: 0,
    ok: 0,
    throttled: 0,
    hangs: 0,
    resets: 0,
    refusals: 0,
    errorsByStatus: {},
    callsByModel: {},
    callsByPromptHash: new Map(),
    untrackedPrompts: 0,
    inputTokens: 0,
    outputTokens: 0,
    cacheReadInputTokens: 0,
    cacheWriteInputTokens: 0,
    inFlight: 0,
    maxInFlight: 0,
  };
}

function respondJson(stream: ServerHttp2Stream, status: number, body: unknown, extra: Record<string, string> = {}): void {
  if (stream.destroyed || stream.closed || stream.headersSent) return;
  stream.respond({
    [constants.HTTP2_HEADER_STATUS]: status,
    'content-type': 'application/json',
    'x-amzn-requestid': randomUUID(),
    ...extra,
  });
  stream.end(JSON.stringify(body));
}

function sendError(stream: ServerHttp2Stream, status: number, errorType: string, message: string, extra: Record<string, string> = {}): void {
  // Bedrock appends a namespace URL after a colon; the SDK strips it, so sending it checks that path too.
  respondJson(stream, status, { message }, {
    'x-amzn-errortype': `${errorType}:http://internal.amazon.com/coral/com.amazon.bedrock/`,
    ...extra,
  });
}

function readBody(stream: ServerHttp2Stream): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    stream.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) reject(new Error('request body too large'));
      else chunks.push(chunk);
    });
    stream.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    stream.once('error', reject);
    stream.once('close', () => reject(new Error('stream closed before the body ended')));
  });
}

/** Bedrock rejects conversations that do not start with a user turn or do not alternate. */
function validateConversation(body: ConverseRequestBody): string | undefined {
  const messages = body.messages;
  if (!Array.isArray(messages) || messages.length === 0) return 'messages: must contain at least one message';
  if (messages[0]?.role !== 'user') return 'A conversation must start with a user message. Try again with a conversation that starts with a user message.';
  for (let i = 1; i < messages.length; i++) {
    if (messages[i]?.role === messages[i - 1]?.role) {
      return 'A conversation must alternate between user and assistant roles. Make sure the conversation alternates between user and assistant roles and try again.';
    }
  }
  return undefined;
}

function contentText(content: ContentBlock[] | undefined): string {
  return (content ?? []).filter((block) => block.cachePoint === undefined).map((block) => block.text ?? '').join('\n');
}

/**
 * The request text before each cache point, joined the way `requestText` joins the whole
 * request, so a prefix's tokens are part of the request's tokens.
 */
/** Bedrock (Anthropic models) takes at most this many cache points in one request. */
const MAX_CACHE_POINTS = 4;

function cachePrefixes(body: ConverseRequestBody): string[] {
  const parts: ContentBlock[][] = [body.system ?? [], ...(body.messages ?? []).map((m) => m.content ?? [])];
  const prefixes: string[] = [];
  const done: string[] = [];
  for (const blocks of parts) {
    const texts: string[] = [];
    for (const block of blocks) {
      if (block.cachePoint !== undefined) prefixes.push([...done, texts.join('\n')].join('\n'));
      else texts.push(block.text ?? '');
    }
    done.push(texts.join('\n'));
  }
  return prefixes;
}

function defaultCacheMinTokens(modelId: string): number | undefined {
  return promptCacheSupport(modelId)?.minTokens;
}

function requestText(body: ConverseRequestBody): string {
  const system = contentText(body.system);
  const messages = (body.messages ?? []).map((m) => contentText(m.content));
  return [system, ...messages].join('\n');
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/**
 * Finds criterion ids in the prompt, preferring the system prompt so rollout text cannot add
 * criteria: an `in this order: a, b, c` list (Arbiter's rubric prompt), else `"id": "x"`,
 * `id="x"`, or list items `- [x]` / `` - `x` ``.
 */
export function findCriterionIds(body: ConverseRequestBody): string[] {
  const fromSystem = criterionIdsIn(contentText(body.system));
  if (fromSystem.length > 0) return fromSystem;
  const firstUser = body.messages?.find((m) => m.role === 'user');
  return criterionIdsIn(contentText(firstUser?.content));
}

const CRITERION_ID = /^[\w.-]{1,80}$/;

function criterionIdsIn(text: string): string[] {
  const ordered = /in this order:\s*([^\n]+?)\.?\s*$/m.exec(text)?.[1];
  if (ordered) {
    const ids = ordered.split(',').map((id) => id.trim()).filter(isCriterionId);
    if (ids.length > 0) return ids;
  }
  const ids = new Set<string>();
  const patterns = [
    /"id"\s*:\s*"([^"\n]{1,80})"/g,
    /\bid\s*=\s*["']([^"'\n]{1,80})["']/g,
    /^\s*[-*]\s*\[([\w.-]{1,80})\]/gm,
    /^\s*[-*]\s*`([\w.-]{1,80})`/gm,
  ];
  for (const pattern of patterns) {
    for (const match of text.matchAll(pattern)) if (match[1] && isCriterionId(match[1])) ids.add(match[1]);
  }
  return [...ids];
}

/** Format examples (`"id":"..."`) are placeholders, not criteria. */
function isCriterionId(id: string): boolean {
  return CRITERION_ID.test(id) && !/^\.+$/.test(id);
}

/**
 * A verdict that passes: for a preference prompt (it asks for a "winner") a tie, which stays
 * consistent when the order is swapped; otherwise a rubric answer passing every criterion found.
 */
export function defaultRespond(call: FakeCall): string {
  if (contentText(call.body.system).includes('"winner"')) {
    return JSON.stringify({ winner: 'tie', rationale: 'fake-bedrock: tie' });
  }
  const criteria = findCriterionIds(call.body).map((id) => ({ id, pass: true, evidence: 'fake-bedrock: passes' }));
  return JSON.stringify({ criteria, rationale: criteria.length > 0 ? 'fake-bedrock: all criteria pass' : 'ok' });
}

interface Bucket {
  take(amount: number): boolean;
}

/** A token bucket on the wall clock; `capacity` tokens, refilled at `perMs`. */
function bucket(capacity: number, perMs: number): Bucket {
  let level = capacity;
  let last = performance.now();
  return {
    take(amount) {
      const now = performance.now();
      level = Math.min(capacity, level + (now - last) * perMs);
      last = now;
      if (level < amount) return false;
      level -= amount;
      return true;
    },
  };
}

const unlimited: Bucket = { take: () => true };

function makeRequestBucket(options: FakeBedrockOptions): Bucket {
  const quota = options.quota;
  if (!quota) return unlimited;
  return bucket(quota.burst ?? Math.max(1, quota.requestsPerSecond), quota.requestsPerSecond / 1000);
}

function makeTokenBucket(options: FakeBedrockOptions): Bucket {
  const tpm = options.tokensPerMinute;
  if (!tpm) return unlimited;
  return bucket(tpm, tpm / 60_000);
}

