import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { closedLoop, type Load } from './closed-loop';
import { postJson } from './http-post';
import { rolloutOf } from './step-files';

/**
 * bench:serve's trainer clients: OpenRLHF remote-RM requests of one sample each, `clients` at
 * once, each sending its next when its answer is back. On the service's event loop by default;
 * in a thread of their own with BENCH_SERVE_CLIENTS_IN=thread (a trainer's clients are not in the
 * service's process: measured at 256 clients, it made no difference beyond the noise).
 */
export interface ClientLoad {
  url: string;
  runId: string;
  /** The first rollout's index: requests carry rollouts [from, from + count). */
  from: number;
  count: number;
  clients: number;
  /** node:http (kept alive) or undici's fetch. */
  http: 'http' | 'fetch';
}

/** The step number the benchmark's rollouts carry (bench/step-files.ts), here and in the direct calls they are compared with. */
export const STEP = 1;

/** OpenRLHF's single-sample remote RM request for rollout `i` of the benchmark's rollouts. */
export function openRlhfRequest(i: number) {
  const r = rolloutOf(STEP, i);
  return { query: [r.prompt + r.response], prompts: [r.prompt], labels: [r.reference] };
}

async function post(http: ClientLoad['http'], url: string, body: unknown): Promise<{ status: number; json: unknown }> {
  if (http === 'http') return postJson(url, body);
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: response.status, json: await response.json() };
}

/** Posts the requests to the run; every answer must be one number. */
export function clientLoad({ url, runId, from, count, clients, http }: ClientLoad): Promise<Load> {
  return closedLoop(count, clients, async (i) => {
    const { status, json } = await post(http, `${url}/openrlhf/${runId}`, openRlhfRequest(from + i));
    const body = json as { rewards?: unknown[] };
    if (status !== 200 || body.rewards?.length !== 1 || typeof body.rewards[0] !== 'number') {
      throw new Error(`request ${from + i}: HTTP ${status} ${JSON.stringify(body).slice(0, 300)}`);
    }
  });
}

/** `clientLoad` in a worker thread of its own. */
export function clientLoadInThread(load: ClientLoad): Promise<Load> {
  return new Promise((resolve, reject) => {
    // The thread loads this TypeScript file through tsx, as the benchmark itself is loaded.
    const entry = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(import.meta.url)}); })`;
    const worker = new Worker(entry, { eval: true, workerData: load });
    worker.once('message', (m: { load?: Load; error?: string }) => (m.load ? resolve(m.load) : reject(new Error(m.error))));
    worker.once('error', reject);
    worker.once('exit', (code) => code !== 0 && reject(new Error(`the clients' thread exited with ${code}`)));
  });
}

if (!isMainThread && parentPort) {
  const port = parentPort;
  clientLoad(workerData as ClientLoad).then(
    (load) => port.postMessage({ load }),
    (err: unknown) => port.postMessage({ error: err instanceof Error ? err.stack ?? err.message : String(err) }),
  );
}
