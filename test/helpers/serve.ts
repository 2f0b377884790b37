import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { buildServer, type ServeOptions } from '../../src/serve/server';
import { tempDir } from '../support/fixtures';
import { withWorker, type TemporalTestContext } from './temporal';

export interface Service {
  url: string;
  app: ReturnType<typeof buildServer>;
  /** POSTs JSON (or a raw string as is) and returns the status, the parsed answer and its text. */
  post(path: string, body: unknown, headers?: Record<string, string>): Promise<{ status: number; body: any; text: string }>;
  get(path: string, headers?: Record<string, string>): Promise<{ status: number; body: any; text: string }>;
}

/** Runs `body` with `arbiter serve`'s app listening on a free loopback port, then closes it. */
export async function withService<T>(options: ServeOptions, body: (service: Service) => Promise<T>): Promise<T> {
  const app = buildServer(options);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  const call = async (method: string, path: string, payload: unknown, headers: Record<string, string> = {}) => {
    const response = await fetch(url + path, {
      method,
      headers: payload === undefined ? headers : { 'content-type': 'application/json', ...headers },
      body: payload === undefined ? undefined : typeof payload === 'string' ? payload : JSON.stringify(payload),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON: kept as text
    }
    return { status: response.status, body: parsed as any, text };
  };
  try {
    return await body({
      url,
      app,
      post: (path, payload, headers) => call('POST', path, payload, headers),
      get: (path, headers) => call('GET', path, undefined, headers),
    });
  } finally {
    await app.close();
  }
}

export interface ServedRun extends TemporalTestContext {
  svc: Service;
  /** A fresh temp folder: runs write under `outputDir` (its `out/`), spills go to its `spill/`. */
  dir: string;
  outputDir: string;
}

/**
 * A worker and `arbiter serve` over it that starts a run on its first request (Update-with-Start,
 * 1,000 steps fed by updates), as a trainer pointed at the service meets them.
 */
export async function withServedRuns<T>(body: (ctx: ServedRun) => Promise<T>, options: Partial<ServeOptions> = {}): Promise<T> {
  const dir = await tempDir();
  const outputDir = join(dir, 'out');
  return withWorker(async (ctx) => {
    const runTemplate = { steps: 1000, rollouts: { type: 'updates' as const }, outputDir };
    return withService({ client: ctx.client, taskQueue: ctx.taskQueue, spillDir: join(dir, 'spill'), runTemplate, ...options }, (svc) =>
      body({ ...ctx, svc, dir, outputDir }),
    );
  });
}
