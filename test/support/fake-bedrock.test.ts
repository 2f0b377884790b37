import { connect } from 'node:http2';
import {
  BedrockRuntimeClient,
  ConverseCommand,
  ServiceUnavailableException,
  ThrottlingException,
  ValidationException,
  type ConverseCommandInput,
} from '@aws-sdk/client-bedrock-runtime';
import { afterEach, describe, expect, it } from 'vitest';
import { bedrockErrors, defaultRespond, promptHash, startFakeBedrock, type FakeBedrock, type FakeCall } from './fake-bedrock';

const MODEL = 'us.anthropic.claude-3-5-sonnet-20241022-v2:0';
const running: FakeBedrock[] = [];
const clients: BedrockRuntimeClient[] = [];

async function start(options: Parameters<typeof startFakeBedrock>[0] = {}): Promise<FakeBedrock> {
  const fake = await startFakeBedrock(options);
  running.push(fake);
  return fake;
}

function client(fake: FakeBedrock): BedrockRuntimeClient {
  const c = new BedrockRuntimeClient({
    region: 'us-east-1',
    endpoint: fake.url,
    credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret' },
    maxAttempts: 1,
  });
  clients.push(c);
  return c;
}

function converse(user = 'judge this', extra: Partial<ConverseCommandInput> = {}): ConverseCommand {
  return new ConverseCommand({ modelId: MODEL, messages: [{ role: 'user', content: [{ text: user }] }], ...extra });
}

async function rejection(promise: Promise<unknown>): Promise<Error & { $metadata?: { httpStatusCode?: number } }> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: Error) => e,
  );
}

afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  await Promise.all(running.splice(0).map((f) => f.close()));
});

describe('fake Bedrock', () => {
  it('answers Converse with the wire format the SDK parses', async () => {
    const fake = await start();
    const out = await client(fake).send(
      converse('rate it', { system: [{ text: 'Criteria: {"id": "grounded"}' }], inferenceConfig: { maxTokens: 50 } }),
    );
    expect(out.stopReason).toBe('end_turn');
    const text = out.output?.message?.content?.[0]?.text ?? '';
    expect(JSON.parse(text)).toMatchObject({ criteria: [{ id: 'grounded', pass: true }] });
    expect(out.usage).toEqual({
      inputTokens: Math.ceil('Criteria: {"id": "grounded"}\nrate it'.length / 4),
      outputTokens: Math.ceil(text.length / 4),
      totalTokens: (out.usage?.inputTokens ?? 0) + (out.usage?.outputTokens ?? 0),
    });
    expect(out.metrics?.latencyMs).toBeTypeOf('number');
    expect(fake.stats).toMatchObject({ requests: 1, ok: 1, inFlight: 0 });
  });

  it('sends errors the SDK turns into its own exception classes', async () => {
    const fake = await start({
      faults: [{ type: 'throttle' }, bedrockErrors.serviceUnavailable, bedrockErrors.validation, bedrockErrors.expiredToken],
    });
    const c = client(fake);
    const throttled = await rejection(c.send(converse()));
    expect(throttled).toBeInstanceOf(ThrottlingException);
    expect(throttled.$metadata?.httpStatusCode).toBe(429);
    const unavailable = await rejection(c.send(converse()));
    expect(unavailable).toBeInstanceOf(ServiceUnavailableException);
    expect(unavailable.$metadata?.httpStatusCode).toBe(503);
    expect(await rejection(c.send(converse()))).toBeInstanceOf(ValidationException);
    // Not a Bedrock-modelled error: the SDK keeps the type as the name.
    const expired = await rejection(c.send(converse()));
    expect(expired.name).toBe('ExpiredTokenException');
    expect(expired.message).toBe('The security token included in the request is expired');
    expect(expired.$metadata?.httpStatusCode).toBe(403);
    expect(fake.stats).toMatchObject({ requests: 4, throttled: 1, errorsByStatus: { 503: 1, 400: 1, 403: 1 } });
  });

  it('answers the rubric and preference prompts with a passing verdict by default', () => {
    const call = (system: string): FakeCall => ({
      n: 1,
      modelId: MODEL,
      body: { system: [{ text: system }], messages: [{ role: 'user', content: [{ text: '"id": "from_rollout"' }] }] },
    });
    const rubricSystem = [
      'Criteria',
      '- cites_sources: names a source',
      '- no-pii: no personal data',
      'in exactly this format:',
      '{"criteria":[{"id":"...","pass":true,"evidence":"..."}],"rationale":"..."}',
      '- "criteria" has exactly one entry per criterion, in this order: cites_sources, no-pii.',
    ].join('\n');
    expect(JSON.parse(defaultRespond(call(rubricSystem)))).toEqual({
      criteria: [
        { id: 'cites_sources', pass: true, evidence: 'fake-bedrock: passes' },
        { id: 'no-pii', pass: true, evidence: 'fake-bedrock: passes' },
      ],
      rationale: 'fake-bedrock: all criteria pass',
    });
    expect(JSON.parse(defaultRespond(call('Reply in exactly this format: {"winner":"A","rationale":"..."}')))).toEqual({
      winner: 'tie',
      rationale: 'fake-bedrock: tie',
    });
  });

  it('hands fault functions the call number, model and body', async () => {
    const seen: FakeCall[] = [];
    const fake = await start({
      faults: (call) => {
        seen.push(call);
        return call.n === 2 ? { type: 'text', text: 'not json' } : undefined;
      },
      respond: (call) => `answer ${call.n}`,
    });
    const c = client(fake);
    const texts: string[] = [];
    for (let i = 0; i < 3; i++) {
      const out = await c.send(converse(`rollout ${i}`));
      texts.push(out.output?.message?.content?.[0]?.text ?? '');
    }
    expect(texts).toEqual(['answer 1', 'not json', 'answer 3']);
    expect(seen.map((call) => [call.n, call.modelId, call.body.messages?.[0]?.content?.[0]?.text])).toEqual([
      [1, MODEL, 'rollout 0'],
      [2, MODEL, 'rollout 1'],
      [3, MODEL, 'rollout 2'],
    ]);
  });

  it('counts calls per prompt so a test can see a rollout judged exactly once, within a bound', async () => {
    const fake = await start({ maxTrackedPrompts: 2 });
    const c = client(fake);
    for (const user of ['a', 'b', 'a', 'c']) await c.send(converse(user));
    expect(fake.stats.callsByPromptHash.get(promptHash('a'))).toBe(2);
    expect(fake.stats.callsByPromptHash.get(promptHash('b'))).toBe(1);
    expect(fake.stats.callsByPromptHash.has(promptHash('c'))).toBe(false);
    expect(fake.stats.untrackedPrompts).toBe(1);
    fake.reset();
    expect(fake.stats).toMatchObject({ requests: 0, ok: 0, untrackedPrompts: 0 });
    expect(fake.stats.callsByPromptHash.size).toBe(0);
  });

  it('repeats failures and latencies exactly for the same seed', async () => {
    async function outcomes(): Promise<string[]> {
      const fake = await start({ seed: 42, failureRate: 0.5, latencyMs: [1, 5] });
      const c = client(fake);
      const result: string[] = [];
      for (let i = 0; i < 12; i++) {
        result.push(await c.send(converse()).then(() => 'ok', (e: Error & { $metadata?: { httpStatusCode?: number } }) => String(e.$metadata?.httpStatusCode)));
      }
      return result;
    }
    const first = await outcomes();
    expect(first).toEqual(await outcomes());
    expect(first).toContain('ok');
    expect(first.some((o) => o === '500' || o === '503')).toBe(true);
  });

  it('throttles beyond its tokens per minute', async () => {
    const fake = await start({ tokensPerMinute: 1_000 });
    const c = client(fake);
    // Each call reserves its input plus maxTokens (400), as Bedrock does: two fit, the third does not.
    const calls = [0, 1, 2].map(() => c.send(converse('x', { inferenceConfig: { maxTokens: 400 } })).then(() => 'ok', (e: Error) => e.name));
    expect((await Promise.all(calls)).sort()).toEqual(['ThrottlingException', 'ok', 'ok']);
    expect(fake.stats).toMatchObject({ ok: 2, throttled: 1 });
  });

  it('rejects conversations Bedrock would reject', async () => {
    const fake = await start();
    const error = await rejection(
      client(fake).send(new ConverseCommand({ modelId: MODEL, messages: [{ role: 'assistant', content: [{ text: 'hi' }] }] })),
    );
    expect(error).toBeInstanceOf(ValidationException);
  });

  it('refuses unsigned requests and unknown operations', async () => {
    const fake = await start();
    const session = connect(fake.url);
    try {
      const answer = (path: string): Promise<{ status: number; type: string }> =>
        new Promise((resolve, reject) => {
          const stream = session.request({ ':method': 'POST', ':path': path, 'content-type': 'application/json' });
          stream.on('response', (headers) => {
            resolve({ status: Number(headers[':status']), type: String(headers['x-amzn-errortype']).split(':')[0] ?? '' });
            stream.resume();
          });
          stream.on('error', reject);
          stream.end(JSON.stringify({ messages: [{ role: 'user', content: [{ text: 'x' }] }] }));
        });
      expect(await answer(`/model/${encodeURIComponent(MODEL)}/converse`)).toEqual({
        status: 403,
        type: 'MissingAuthenticationTokenException',
      });
      expect(await answer('/nope')).toEqual({ status: 404, type: 'UnknownOperationException' });
    } finally {
      session.destroy();
    }
  });

  it('closes quickly while a call hangs', async () => {
    const fake = await start({ faults: [{ type: 'hang' }] });
    const pending = client(fake).send(converse()).then(() => 'answered', (e: Error) => e.name);
    await expect.poll(() => fake.stats.hangs).toBe(1);
    expect(fake.stats.inFlight).toBe(1);
    const started = performance.now();
    await fake.close();
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(await pending).not.toBe('answered');
    expect(fake.stats.inFlight).toBe(0);
  });
});
