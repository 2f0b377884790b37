import type { AddressInfo } from 'node:net';
import { buildServer, type ServeOptions } from '../../src/serve/server';

export interface Service {
  url: string;
  app: ReturnType<typeof buildServer>;
  /** POSTs JSON (or a raw string as is) and returns the status and parsed answer. */
  post(path: string, body: unknown, headers?: Record<string, string>): Promise<{ status: number; body: any }>;
  get(path: string, headers?: Record<string, string>): Promise<{ status: number; body: any }>;
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
    return { status: response.status, body: parsed as any };
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
