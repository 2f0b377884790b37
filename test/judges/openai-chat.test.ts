import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ChatCallError } from '../../src/call-policy/chat-call-error';
import { type ChatRequest } from '../../src/judges/chat-model';
import { OpenAiChatModel } from '../../src/judges/openai-chat';

const API_KEY = 'sk-test-do-not-print';

const request: ChatRequest = {
  system: 'You are a strict grader.',
  messages: [{ role: 'user', text: '<response>The sky is blue.</response>' }],
  temperature: 0,
  maxTokens: 128,
};

interface Seen {
  url: string | undefined;
  authorization: string | undefined;
  body: { model?: string; messages?: { role: string; content: string }[]; temperature?: number; max_tokens?: number };
}

/** The answer of the next call: HTTP status and JSON body, or `hang`. */
type Script = { status: number; body: unknown; headers?: Record<string, string> } | 'hang';

/** A local HTTP/1.1 OpenAI-compatible server, as vLLM or Ollama would be. */
let server: Server;
let baseUrl: string;
let script: Script[] = [];
let seen: Seen[] = [];
const hung = new Set<ServerResponse>();

function completion(content: string, finishReason = 'stop'): Script {
  return {
    status: 200,
    body: {
      id: 'cmpl-1',
      object: 'chat.completion',
      choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: finishReason }],
      usage: { prompt_tokens: 42, completion_tokens: 7, total_tokens: 49 },
    },
  };
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  let raw = '';
  for await (const chunk of req) raw += String(chunk);
  seen.push({ url: req.url, authorization: req.headers.authorization, body: JSON.parse(raw) as Seen['body'] });
  const next = script.shift() ?? completion('{"criteria":[],"rationale":"ok"}');
  if (next === 'hang') {
    hung.add(res);
    return;
  }
  res.writeHead(next.status, { 'content-type': 'application/json', ...next.headers });
  res.end(JSON.stringify(next.body));
}

async function failure(promise: Promise<unknown>): Promise<ChatCallError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ChatCallError);
  return error as ChatCallError;
}

beforeAll(async () => {
  server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});
afterEach(() => {
  script = [];
  seen = [];
  for (const res of hung) res.destroy();
  hung.clear();
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe('OpenAiChatModel against a local OpenAI-compatible server', () => {
  const model = (requestTimeoutMs?: number): OpenAiChatModel =>
    new OpenAiChatModel({ model: 'qwen2.5-7b-instruct', baseUrl, apiKey: API_KEY, ...(requestTimeoutMs && { requestTimeoutMs }) });

  it('returns the answer with usage, and sends the request vLLM and Ollama expect', async () => {
    script = [completion('{"criteria":[],"rationale":"fine"}')];
    const response = await model().complete(request);
    expect(response).toMatchObject({
      text: '{"criteria":[],"rationale":"fine"}',
      usage: { inputTokens: 42, outputTokens: 7 },
      stopReason: 'stop',
    });
    expect(response.latencyMs).toBeGreaterThan(0);
    expect(seen).toEqual([
      {
        url: '/v1/chat/completions',
        authorization: `Bearer ${API_KEY}`,
        body: {
          model: 'qwen2.5-7b-instruct',
          messages: [
            { role: 'system', content: request.system },
            { role: 'user', content: request.messages[0]!.text },
          ],
          temperature: 0,
          max_tokens: 128,
        },
      },
    ]);
  });

  it('sends no authorization header when there is no key (local servers)', async () => {
    const saved = process.env.OPENAI_API_KEY;
    delete process.env.OPENAI_API_KEY;
    try {
      await new OpenAiChatModel({ model: 'llama3', baseUrl }).complete(request);
      expect(seen[0]?.authorization).toBeUndefined();
    } finally {
      if (saved !== undefined) process.env.OPENAI_API_KEY = saved;
    }
  });

  it('takes the base URL from OPENAI_BASE_URL', async () => {
    const saved = process.env.OPENAI_BASE_URL;
    process.env.OPENAI_BASE_URL = `${baseUrl}/`;
    try {
      await new OpenAiChatModel({ model: 'llama3', apiKey: API_KEY }).complete(request);
      expect(seen[0]?.url).toBe('/v1/chat/completions');
    } finally {
      if (saved === undefined) delete process.env.OPENAI_BASE_URL;
      else process.env.OPENAI_BASE_URL = saved;
    }
  });

  const cases: { status: number; reason: string; retryable: boolean }[] = [
    { status: 429, reason: 'throttled', retryable: true },
    { status: 401, reason: 'auth', retryable: false },
    { status: 403, reason: 'auth', retryable: false },
    { status: 408, reason: 'timeout', retryable: true },
    { status: 500, reason: 'server', retryable: true },
    { status: 503, reason: 'server', retryable: true },
    { status: 400, reason: 'server', retryable: false },
    { status: 404, reason: 'server', retryable: false },
  ];
  for (const c of cases) {
    it(`classifies HTTP ${c.status} as ${c.reason}${c.retryable ? ' (retryable)' : ''}`, async () => {
      script = [{ status: c.status, body: { error: { message: `failure ${c.status}`, type: 'x', code: null } } }];
      const error = await failure(model().complete(request));
      expect({ reason: error.reason, retryable: error.retryable, code: error.code }).toEqual({
        reason: c.reason,
        retryable: c.retryable,
        code: String(c.status),
      });
      expect(error.message).toContain(`failure ${c.status}`);
      expect(seen).toHaveLength(1);
    });
  }

  it('carries the Retry-After of a 429 (seconds, or OpenAI\'s retry-after-ms)', async () => {
    const tooMany = { error: { message: 'rate limited' } };
    script = [
      { status: 429, body: tooMany, headers: { 'retry-after': '3' } },
      { status: 429, body: tooMany, headers: { 'retry-after-ms': '1500', 'retry-after': '2' } },
      { status: 429, body: tooMany },
    ];
    expect((await failure(model().complete(request))).retryAfterMs).toBe(3000);
    expect((await failure(model().complete(request))).retryAfterMs).toBe(1500);
    expect((await failure(model().complete(request))).retryAfterMs).toBeUndefined();
  });

  it('never puts the API key in an error message, even when the server echoes it', async () => {
    script = [{ status: 401, body: { error: { message: `Incorrect API key provided: ${API_KEY}`, code: 'invalid_api_key' } } }];
    const error = await failure(model().complete(request));
    expect(error.reason).toBe('auth');
    expect(error.message).not.toContain(API_KEY);
    expect(error.message).toContain('[redacted]');
  });

  it('treats finish_reason content_filter as a refusal', async () => {
    script = [completion('', 'content_filter')];
    const error = await failure(model().complete(request));
    expect(error).toMatchObject({ reason: 'refusal', retryable: false, code: 'content_filter' });
  });

  it('gives up on a hung call after requestTimeoutMs, as a retryable timeout', async () => {
    script = ['hang'];
    const error = await failure(model(300).complete(request));
    expect(error).toMatchObject({ reason: 'timeout', retryable: true });
  });

  it('treats a refused connection as a retryable server failure', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const error = await failure(new OpenAiChatModel({ model: 'm', baseUrl: `http://127.0.0.1:${port}/v1`, apiKey: API_KEY }).complete(request));
    expect(error).toMatchObject({ reason: 'server', retryable: true, code: 'ECONNREFUSED' });
  });
});
