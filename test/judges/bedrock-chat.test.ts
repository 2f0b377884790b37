import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BedrockChatModel, classifyBedrockError } from '../../src/judges/bedrock-chat';
import { type ChatRequest } from '../../src/judges/chat-model';
import { ChatCallError } from '../../src/call-policy/chat-call-error';
import { bedrockErrors, promptHash, startFakeBedrock, type Fault, type FakeBedrock } from '../support/fake-bedrock';
import { chatFailure } from '../helpers/chat-failure';

const MODEL = 'us.anthropic.claude-3-5-sonnet-20241022-v2:0';
const credentials = { accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret' };

const request: ChatRequest = {
  system: 'You are a strict grader. Criteria:\n- [accurate] the facts are right\n- [concise] no padding',
  messages: [{ role: 'user', text: '<response>The sky is blue.</response>' }],
  temperature: 0,
  maxTokens: 256,
};

let fake: FakeBedrock;
const models: BedrockChatModel[] = [];

function model(options: { requestTimeoutMs?: number; model?: string } = {}): BedrockChatModel {
  const m = new BedrockChatModel({
    model: options.model ?? MODEL,
    region: 'us-east-1',
    endpoint: fake.url,
    credentials,
    ...(options.requestTimeoutMs !== undefined && { requestTimeoutMs: options.requestTimeoutMs }),
  });
  models.push(m);
  return m;
}

beforeAll(async () => {
  fake = await startFakeBedrock({ seed: 7 });
});
afterEach(() => {
  fake.setOptions({ faults: [], quota: undefined, latencyMs: 0, models: undefined });
  fake.reset();
  for (const m of models.splice(0)) m.close();
});
afterAll(async () => {
  await fake.close();
});

describe('BedrockChatModel against the fake Bedrock, over HTTP/2', () => {
  it('returns the answer with usage and latency', async () => {
    fake.setOptions({ latencyMs: 30 });
    const response = await model().complete(request);
    expect(JSON.parse(response.text)).toEqual({
      criteria: [
        { id: 'accurate', pass: true, evidence: 'fake-bedrock: passes' },
        { id: 'concise', pass: true, evidence: 'fake-bedrock: passes' },
      ],
      rationale: 'fake-bedrock: all criteria pass',
    });
    expect(response.stopReason).toBe('end_turn');
    expect(response.usage.inputTokens).toBe(Math.ceil((request.system.length + 1 + request.messages[0]!.text.length) / 4));
    expect(response.usage.outputTokens).toBe(Math.ceil(response.text.length / 4));
    expect(response.latencyMs).toBeGreaterThanOrEqual(25);
    expect(fake.stats.callsByModel).toEqual({ [MODEL]: 1 });
    expect(fake.stats.callsByPromptHash.get(promptHash(request.messages[0]!.text))).toBe(1);
  });

  it('routes by model ARN (URL-encoded in the path)', async () => {
    const arn = 'arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-3-5-sonnet-20241022-v2:0';
    await model({ model: arn }).complete(request);
    expect(fake.stats.callsByModel).toEqual({ [arn]: 1 });
  });

  const cases: { name: string; fault: Fault; reason: string; retryable: boolean; code: string }[] = [
    { name: '429 throttling', fault: { type: 'throttle' }, reason: 'throttled', retryable: true, code: 'ThrottlingException' },
    { name: '503 unavailable', fault: bedrockErrors.serviceUnavailable, reason: 'server', retryable: true, code: 'ServiceUnavailableException' },
    { name: '500 internal', fault: bedrockErrors.internal, reason: 'server', retryable: true, code: 'InternalServerException' },
    { name: '429 model not ready', fault: bedrockErrors.modelNotReady, reason: 'server', retryable: true, code: 'ModelNotReadyException' },
    { name: '408 model timeout', fault: bedrockErrors.modelTimeout, reason: 'timeout', retryable: true, code: 'ModelTimeoutException' },
    { name: '400 validation', fault: bedrockErrors.validation, reason: 'server', retryable: false, code: 'ValidationException' },
    { name: '403 access denied', fault: bedrockErrors.accessDenied, reason: 'auth', retryable: false, code: 'AccessDeniedException' },
    { name: '403 expired token', fault: bedrockErrors.expiredToken, reason: 'auth', retryable: false, code: 'ExpiredTokenException' },
    { name: '403 unrecognized client', fault: bedrockErrors.unrecognizedClient, reason: 'auth', retryable: false, code: 'UnrecognizedClientException' },
    { name: 'unknown 502', fault: { type: 'error', status: 502, errorType: 'BadGateway', message: 'bad gateway' }, reason: 'server', retryable: true, code: 'BadGateway' },
    { name: 'stream reset', fault: { type: 'reset' }, reason: 'server', retryable: true, code: 'ERR_HTTP2_STREAM_ERROR' },
  ];
  for (const c of cases) {
    it(`classifies ${c.name} as ${c.reason}${c.retryable ? ' (retryable)' : ''}`, async () => {
      fake.setOptions({ faults: [c.fault] });
      const error = await chatFailure(model().complete(request));
      expect({ reason: error.reason, retryable: error.retryable, code: error.code }).toEqual({
        reason: c.reason,
        retryable: c.retryable,
        code: c.code,
      });
      // One HTTP request per call, whatever the outcome: the SDK's own retries are off.
      expect(fake.stats.requests).toBe(1);
    });
  }

  it('carries the Retry-After Bedrock sends with a 429', async () => {
    fake.setOptions({ faults: [{ type: 'throttle' }, { type: 'throttle' }], retryAfterSeconds: 2 });
    try {
      expect((await chatFailure(model().complete(request))).retryAfterMs).toBe(2000);
      fake.setOptions({ retryAfterSeconds: undefined });
      expect((await chatFailure(model().complete(request))).retryAfterMs).toBeUndefined();
    } finally {
      fake.setOptions({ retryAfterSeconds: undefined });
    }
  });

  it('says how credentials are resolved on auth failures, without printing secrets', async () => {
    fake.setOptions({ faults: [bedrockErrors.expiredToken] });
    const error = await chatFailure(model().complete(request));
    expect(error.message).toContain('AWS default chain');
    expect(error.message).toContain('security token included in the request is expired');
    expect(error.message).not.toContain('test-secret');
    expect(error.message).not.toContain('AKIDTEST');
  });

  it('names the model id when Bedrock rejects it', async () => {
    fake.setOptions({ models: ['some.other-model'] });
    const error = await chatFailure(model().complete(request));
    expect(error).toMatchObject({ reason: 'server', retryable: false, code: 'ValidationException' });
    expect(error.message).toContain(MODEL);
  });

  it('makes exactly one HTTP request on a 503 (SDK retries off)', async () => {
    fake.setOptions({ faults: [bedrockErrors.serviceUnavailable, bedrockErrors.serviceUnavailable] });
    await chatFailure(model().complete(request));
    expect(fake.stats.requests).toBe(1);
    expect(fake.stats.errorsByStatus).toEqual({ 503: 1 });
  });

  it('gives up on a hung call after requestTimeoutMs, as a retryable timeout', async () => {
    fake.setOptions({ faults: [{ type: 'hang' }] });
    const started = performance.now();
    const error = await chatFailure(model({ requestTimeoutMs: 300 }).complete(request));
    expect(error).toMatchObject({ reason: 'timeout', retryable: true });
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(fake.stats.hangs).toBe(1);
  });

  it('passes a cancellation by the caller through unclassified', async () => {
    fake.setOptions({ faults: [{ type: 'hang' }] });
    const controller = new AbortController();
    const cancelled = new Error('activity cancelled');
    setTimeout(() => controller.abort(cancelled), 100);
    await expect(model().complete(request, controller.signal)).rejects.toBe(cancelled);
  });

  it('treats content_filtered and guardrail_intervened as refusals', async () => {
    fake.setOptions({ faults: [{ type: 'refusal' }, { type: 'refusal', stopReason: 'guardrail_intervened' }] });
    const m = model();
    const filtered = await chatFailure(m.complete(request));
    expect(filtered).toMatchObject({ reason: 'refusal', retryable: false, code: 'content_filtered' });
    const guarded = await chatFailure(m.complete(request));
    expect(guarded).toMatchObject({ reason: 'refusal', retryable: false, code: 'guardrail_intervened' });
  });

  it('returns scripted prose as text, for the parser to judge', async () => {
    fake.setOptions({ faults: [{ type: 'text', text: 'I think it is fine.' }] });
    const response = await model().complete(request);
    expect(response.text).toBe('I think it is fine.');
  });

  it('is throttled by the fake quota beyond its rate', async () => {
    fake.setOptions({ quota: { requestsPerSecond: 2, burst: 3 } });
    const m = model();
    const results = await Promise.allSettled(Array.from({ length: 8 }, () => m.complete(request)));
    const throttled = results.filter((r) => r.status === 'rejected' && (r.reason as ChatCallError).reason === 'throttled');
    expect(results.filter((r) => r.status === 'fulfilled').length).toBeGreaterThanOrEqual(3);
    expect(results.filter((r) => r.status === 'fulfilled').length).toBeLessThanOrEqual(4);
    expect(throttled.length).toBe(8 - results.filter((r) => r.status === 'fulfilled').length);
    expect(fake.stats.throttled).toBe(throttled.length);
    expect(fake.stats.requests).toBe(8);
  });

  it('follows AWS_ENDPOINT_URL_BEDROCK_RUNTIME when no endpoint is given', async () => {
    const saved = process.env.AWS_ENDPOINT_URL_BEDROCK_RUNTIME;
    process.env.AWS_ENDPOINT_URL_BEDROCK_RUNTIME = fake.url;
    try {
      const m = new BedrockChatModel({ model: MODEL, region: 'us-east-1', credentials });
      models.push(m);
      const response = await m.complete(request);
      expect(response.stopReason).toBe('end_turn');
      expect(fake.stats.requests).toBe(1);
    } finally {
      if (saved === undefined) delete process.env.AWS_ENDPOINT_URL_BEDROCK_RUNTIME;
      else process.env.AWS_ENDPOINT_URL_BEDROCK_RUNTIME = saved;
    }
  });
});

describe('classifyBedrockError without a server', () => {
  it('treats a failing credential chain as auth, not retryable', () => {
    const error = Object.assign(new Error('Could not load credentials from any providers'), {
      name: 'CredentialsProviderError',
    });
    const classified = classifyBedrockError(error, MODEL, 1);
    expect(classified).toMatchObject({ reason: 'auth', retryable: false, code: 'CredentialsProviderError' });
    expect(classified.message).toContain('AWS default chain');
  });

  it('treats refused connections and socket timeouts as retryable', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    expect(classifyBedrockError(refused, MODEL, 1)).toMatchObject({ reason: 'server', retryable: true, code: 'ECONNREFUSED' });
    const timeout = Object.assign(new Error('Stream timed out'), { name: 'TimeoutError' });
    expect(classifyBedrockError(timeout, MODEL, 1)).toMatchObject({ reason: 'timeout', retryable: true });
  });
});
