import { randomUUID } from 'node:crypto';
import { mkdtemp, readdir } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from '@temporalio/client';
import { connectSafely } from '../../src/temporal/closed-connection';
import { keyIdOf } from '../../src/contract/request-ledger';
import { readManifest } from '../../src/contract/manifest';
import { RunLayout } from '../../src/contract/run-layout';
import type { RewardRecord } from '../../src/contract/reward-record';
import { MAX_LINE_BYTES } from '../../src/io/read-lines';
import { joinLocation } from '../../src/storage/location';
import { readStoredText } from '../../src/storage/read-text';
import { storeFor } from '../../src/storage/stores';
import { buildServer } from '../../src/serve/server';
import { requestKey } from '../../src/serve/wire-shapes';
import { pauseUpdate, progressQuery, resumeUpdate } from '../../workflows/definitions';
import { spawnWorker, type Child } from '../helpers/processes';
import { startFakeBedrock, type FakeCall } from '../support/fake-bedrock';
import { markerJudge, TEST_MODEL, userText } from '../support/fake-bedrock-env';
import { arbiterDataConverter } from '../../src/temporal/payload-compression';

/**
 * The service path under the load trainers put on it (issue 16): closed-loop one-sample clients
 * in OpenRLHF's current shape, batch clients (native, Nova), duplicate retries racing their
 * originals, two service processes on one run with random restarts of one, worker SIGKILLs,
 * continue-as-new every step, oversized and invalid samples, a pause and a resume. Then an audit
 * of every reward against its rollout. Used by `npm run soak:serve` (full size) and by a
 * CI-sized test.
 */
export interface SoakOptions {
  temporalAddress: string;
  /** Where the run folder and the services' spill folder go: a folder, or `s3://bucket/prefix`. */
  dir: string;
  /**
   * With `dir` in S3: the environment that reaches the bucket. Each worker process then runs in an
   * empty folder of its own, which the audit checks is still empty: workers and services share
   * nothing but Temporal and the bucket.
   */
  s3Env?: Record<string, string>;
  /** Closed-loop one-sample clients (OpenRLHF's agent.py shape). */
  clients: number;
  requestsPerClient: number;
  /** Batch clients (half native with a requestId, half Nova with an Idempotency-Key), closed loop. */
  batchClients: number;
  batchRequests: number;
  batchSize: number;
  /** Share of requests sent twice at once (a retry racing its original). */
  duplicateShare: number;
  serviceRestarts: number;
  workerKills: number;
  /** Requests carrying one sample over the worker's line limit. */
  oversized: number;
  pauseMs: number;
  /** The whole soak stops by itself after this long (an unanswered request then fails it). */
  timeLimitMs: number;
  seed?: number;
  log?: (line: string) => void;
}

export interface SoakReport {
  requests: number;
  answered: number;
  refusedSamples: number;
  invalidRefused: number;
  rollouts: number;
  steps: number;
  executions: number;
  duplicatesSent: number;
  serviceRestarts: number;
  workerKills: number;
  judgeCalls: number;
  /** Rollouts the judge was asked about more than once (bounded by the calls in flight at the kills). */
  judgedTwice: number;
  seconds: number;
  /** Every problem the audit found; empty when the contract held. */
  problems: string[];
}

interface Sent {
  key: string;
  /** The unique word in each valid sample's response, to find its judge calls. */
  tokens: string[];
  refusedIndexes: number[];
  answer: { step: number | null; rewards: (number | null)[] };
}

export async function runServeSoak(o: SoakOptions): Promise<SoakReport> {
  const log = o.log ?? (() => {});
  const started = Date.now();
  const stopAt = started + o.timeLimitMs;
  const problems: string[] = [];
  let seed = o.seed ?? 1;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);

  // The judge: a fake Bedrock that passes answers carrying "4", counting calls per sample token.
  const callsByToken = new Map<string, number>();
  const judge = markerJudge(' 4');
  const fake = await startFakeBedrock({
    seed: 7,
    latencyMs: [5, 40],
    respond: (call: FakeCall) => {
      for (const m of userText(call).matchAll(/tok-[0-9a-f]{12}/g)) callsByToken.set(m[0], (callsByToken.get(m[0]) ?? 0) + 1);
      return judge(call);
    },
  });
  const taskQueue = `soak-${randomUUID()}`;
  const outputDir = joinLocation(o.dir, 'out');
  const workerEnv = {
    TEMPORAL_ADDRESS: o.temporalAddress,
    ARBITER_TASK_QUEUE: taskQueue,
    ARBITER_ALLOWED_ROLLOUT_DIRS: o.dir,
    AWS_ENDPOINT_URL_BEDROCK_RUNTIME: fake.url,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'AKIDFAKEBEDROCKTEST',
    AWS_SECRET_ACCESS_KEY: 'fake-bedrock-test-secret',
    ...(o.s3Env ? { ...o.s3Env, ARBITER_ALLOWED_OUTPUT_DIRS: outputDir } : {}),
  };
  const workerDirs: string[] = [];
  const newWorker = async () => {
    if (!o.s3Env) return spawnWorker(workerEnv);
    workerDirs.push(await mkdtemp(join(tmpdir(), 'arbiter-soak-worker-')));
    return spawnWorker(workerEnv, { cwd: workerDirs.at(-1) });
  };
  let worker: Child & { ready: Promise<void> } = await newWorker();
  await worker.ready;
  const connection = await connectSafely({ address: o.temporalAddress });
  const client = new Client({ connection, dataConverter: arbiterDataConverter });
  const runId = `soak-${Date.now()}`;
  const runTemplate = {
    steps: 100_000,
    rollouts: { type: 'updates' as const },
    outputDir,
    cache: false,
    continueAsNewEverySteps: 1,
    judge: { provider: 'bedrock' as const, model: TEST_MODEL, rubric: { criteria: [{ id: 'right', description: 'Gives the right number' }] }, quota: { requestsPerMinute: 60_000, maxInFlight: 32 } },
  };

  // Two services on one run, as behind a load balancer; A is restarted now and then.
  const service = async () => {
    const app = buildServer({ client, taskQueue, spillDir: joinLocation(o.dir, 'spill'), runTemplate, batching: { answerTimeoutMs: 60_000 } });
    await app.listen({ port: 0, host: '127.0.0.1' });
    return { app, url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}` };
  };
  const services = [await service(), await service()];

  const sent: Sent[] = [];
  let requests = 0;
  let duplicatesSent = 0;
  let invalidRefused = 0;
  let restarts = 0;
  let kills = 0;
  let oversizedLeft = o.oversized;

  /** POSTs until answered: a trainer retries what failed on the way (a restarted service, a 503). */
  const post = async (path: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> => {
    for (let attempt = 0; ; attempt++) {
      if (Date.now() > stopAt) throw new Error(`time limit reached with ${path} unanswered`);
      const target = services[Math.floor(random() * services.length)]!;
      try {
        const res = await fetch(target.url + path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
        const parsed = await res.json();
        if (res.status === 503) {
          await sleep(100);
          continue;
        }
        return { status: res.status, body: parsed };
      } catch {
        await sleep(Math.min(1000, 50 * 2 ** attempt));
      }
    }
  };
  /** Sometimes sends the same request twice at once (a retry racing its original): both must agree. */
  const send = async (path: string, body: unknown, headers: Record<string, string> = {}) => {
    requests++;
    if (random() >= o.duplicateShare) return post(path, body, headers);
    duplicatesSent++;
    const [a, b] = await Promise.all([post(path, body, headers), post(path, body, headers)]);
    // Which of the two the run judged and which attached to it may differ (`replayed`), and the
    // step's summary is best effort (null when the run could not be asked, as while its worker is
    // killed: src/serve/server.ts); nothing else.
    const bothSummaries = !Array.isArray(a.body) && !Array.isArray(b.body) && a.body?.summary != null && b.body?.summary != null;
    const same = (x: { body: any }) =>
      JSON.stringify(Array.isArray(x.body) ? x.body : { ...x.body, replayed: undefined, ...(bothSummaries ? {} : { summary: undefined }) });
    if (same(a) !== same(b)) problems.push(`a duplicate of ${path} was answered differently: ${whereDifferent(same(a), same(b))}`);
    return a;
  };
  const sample = (good: boolean) => {
    const token = `tok-${randomUUID().replace(/-/g, '').slice(0, 12)}`;
    return { token, response: good ? `It is 4 (${token}).` : `No idea (${token}).` };
  };

  const oneSampleClient = async (c: number) => {
    for (let i = 0; i < o.requestsPerClient; i++) {
      const s = sample((c + i) % 2 === 0);
      const prompt = `<|im_start|>user\nWhat is 2 + 2? (client ${c})<|im_end|>\n<|im_start|>assistant\n`;
      const huge = oversizedLeft > 0 && random() < 0.1 ? (oversizedLeft--, 'x'.repeat(MAX_LINE_BYTES + 1)) : '';
      const body = { query: [prompt + s.response + huge], prompts: [prompt], labels: ['4'] };
      const res = await send(`/openrlhf/${runId}`, body);
      if (res.status !== 200) {
        problems.push(`openrlhf client ${c} request ${i}: HTTP ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`);
        continue;
      }
      const refused = res.body.extra_logs.arbiter_refused[0] === 1;
      if (huge && !refused) problems.push(`an oversized sample was not refused (client ${c})`);
      sent.push({
        key: requestKey(undefined, 'openrlhf', body),
        tokens: refused ? [] : [s.token],
        refusedIndexes: refused ? [0] : [],
        answer: { step: res.body.arbiter.step, rewards: refused ? [null] : res.body.rewards },
      });
    }
  };

  const batchClient = async (c: number) => {
    for (let i = 0; i < o.batchRequests; i++) {
      const samples = Array.from({ length: o.batchSize }, (_, j) => sample((i + j) % 3 !== 0));
      const requestId = `batch-${c}-${i}-${runId}`;
      if (c % 2 === 0) {
        const rollouts = samples.map((s, j) => ({ id: `s${j}`, prompt: 'What is 2 + 2?', response: s.response, reference: '4' }));
        const res = await send(`/v1/runs/${runId}/rewards`, { rollouts, requestId });
        if (res.status !== 200) {
          problems.push(`native client ${c} request ${i}: HTTP ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`);
          continue;
        }
        sent.push({ key: requestKey(requestId, 'native', undefined), tokens: samples.map((s) => s.token), refusedIndexes: [], answer: { step: res.body.step, rewards: res.body.rewards.map((r: { reward: number | null }) => r.reward) } });
      } else {
        const body = samples.map((s, j) => ({ id: `n${j}`, messages: [{ role: 'user', content: 'What is 2 + 2?' }, { role: 'assistant', content: s.response }], reference_answer: '4' }));
        const res = await send(`/nova/${runId}`, body, { 'idempotency-key': requestId });
        if (res.status !== 200) {
          problems.push(`nova client ${c} request ${i}: HTTP ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`);
          continue;
        }
        const step = res.body[0].metrics_list.find((m: { name: string }) => m.name === 'arbiter_step').value;
        sent.push({ key: requestKey(requestId, 'nova', undefined), tokens: samples.map((s) => s.token), refusedIndexes: [], answer: { step, rewards: res.body.map((r: { aggregate_reward_score: number }) => r.aggregate_reward_score) } });
      }
    }
  };

  // A request the edge refuses whole (a sample without a response): named, nothing recorded.
  const invalid = await post(`/v1/runs/${runId}/rewards`, { rollouts: [{ id: 'bad', prompt: 'p' }] });
  if (invalid.status === 422) invalidRefused++;
  else problems.push(`an invalid sample got HTTP ${invalid.status}`);

  let trafficDone = false;
  const traffic = Promise.all([
    ...Array.from({ length: o.clients }, (_, c) => oneSampleClient(c)),
    ...Array.from({ length: o.batchClients }, (_, c) => batchClient(c)),
  ]).finally(() => (trafficDone = true));

  // Chaos, spread over the traffic: restarts of service A, worker kills, one pause.
  const chaos = (async () => {
    const events = [
      ...Array.from({ length: o.serviceRestarts }, () => 'restart' as const),
      ...Array.from({ length: o.workerKills }, () => 'kill' as const),
      ...(o.pauseMs > 0 ? ['pause' as const] : []),
    ].sort(() => random() - 0.5);
    for (const event of events) {
      await sleep(500 + random() * 2500);
      if (trafficDone) break;
      const handle = client.workflow.getHandle(runId);
      if (event === 'restart') {
        const old = services[0]!;
        old.app.server.closeAllConnections();
        await old.app.close();
        services[0] = await service();
        restarts++;
        log(`service A restarted (${restarts})`);
      } else if (event === 'kill') {
        await worker.kill();
        kills++;
        log(`worker SIGKILLed (${kills})`);
        await sleep(300);
        worker = await newWorker();
        await worker.ready;
      } else {
        try {
          await handle.executeUpdate(pauseUpdate, { args: [{ reason: 'soak: a pause' }] });
          log('run paused');
          await sleep(o.pauseMs);
          await handle.executeUpdate(resumeUpdate, { args: [{ note: 'soak: resumed' }] });
          log('run resumed');
        } catch (err) {
          problems.push(`pause/resume failed: ${String(err)}`);
        }
      }
    }
  })();

  try {
    await traffic;
  } catch (err) {
    problems.push(String(err));
  }
  await chaos;

  // ---- the audit ----
  const layout = RunLayout.of(outputDir, runId);
  const records = new Map<string, RewardRecord[]>();
  const stepsDir = joinLocation(layout.runDir, 'steps');
  for (const f of (await storeFor(stepsDir).list(stepsDir)).filter((n) => n.endsWith('.rewards.jsonl'))) {
    for (const line of (await readStoredText(joinLocation(stepsDir, f))).split('\n')) {
      if (!line.trim()) continue;
      const r = JSON.parse(line) as RewardRecord;
      records.set(r.id, [...(records.get(r.id) ?? []), r]);
    }
  }
  for (const cwd of workerDirs) {
    const left = await readdir(cwd);
    if (left.length > 0) problems.push(`a worker wrote beside itself (${cwd}): ${left.join(', ')}`);
  }
  for (const [id, list] of records) if (list.length !== 1) problems.push(`rollout ${id} has ${list.length} rewards in the run's files`);
  let rollouts = 0;
  let refusedSamples = 0;
  for (const s of sent) {
    const keyId = keyIdOf(s.key);
    s.answer.rewards.forEach((reward, index) => {
      if (s.refusedIndexes.includes(index)) {
        refusedSamples++;
        if (records.has(`${keyId}~${index}`)) problems.push(`refused sample ${s.key}#${index} has a reward in the files`);
        return;
      }
      rollouts++;
      const record = records.get(`${keyId}~${index}`)?.[0];
      if (!record) return void problems.push(`answered sample ${s.key}#${index} has no reward in the run's files`);
      if (record.step !== s.answer.step) problems.push(`${s.key}#${index}: answered as step ${s.answer.step}, in the files at step ${record.step}`);
      if (record.reward !== null && record.reward !== reward) problems.push(`${s.key}#${index}: answered ${reward}, the file says ${record.reward}`);
    });
  }
  if (records.size !== rollouts) problems.push(`${records.size} rewards in the files for ${rollouts} answered samples`);
  const manifest = (await readManifest(layout.manifest)).map((l) => l.step).sort((a, b) => a - b);
  manifest.forEach((step, i) => {
    if (step !== i + 1) problems.push(`step numbers skip or repeat: ${manifest.slice(Math.max(0, i - 2), i + 3).join(', ')}`);
  });
  let judgedTwice = 0;
  for (const s of sent) for (const t of s.tokens) {
    const calls = callsByToken.get(t) ?? 0;
    if (calls === 0) problems.push(`sample ${t} was answered but never judged`);
    if (calls > 1) judgedTwice++;
  }
  // Only a worker killed mid-chunk may cost a second call, for what was in flight then.
  if (judgedTwice > kills * 32) problems.push(`${judgedTwice} samples judged twice with ${kills} worker kills (bound ${kills * 32})`);
  const progress = await client.workflow.getHandle(runId).query(progressQuery);
  if (progress.status !== 'running') problems.push(`the run is ${progress.status} at the end: ${progress.reason}`);
  let executions = 0;
  for await (const _ of client.workflow.list({ query: `WorkflowId = '${runId}'` })) executions++;

  const report: SoakReport = {
    requests,
    answered: sent.length,
    refusedSamples,
    invalidRefused,
    rollouts,
    steps: manifest.length,
    executions,
    duplicatesSent,
    serviceRestarts: restarts,
    workerKills: kills,
    judgeCalls: [...callsByToken.values()].reduce((a, b) => a + b, 0),
    judgedTwice,
    seconds: Math.round((Date.now() - started) / 100) / 10,
    problems: problems.slice(0, 50),
  };
  await client.workflow.getHandle(runId).terminate('soak over').catch(() => undefined);
  for (const s of services) {
    s.app.server.closeAllConnections();
    await s.app.close();
  }
  await worker.kill();
  await connection.close();
  await fake.close();
  return report;
}

/** Two texts around where they first differ, so a report shows what differed and not only how each began. */
function whereDifferent(a: string, b: string): string {
  let i = 0;
  while (i < a.length && a[i] === b[i]) i++;
  const around = (s: string) => `…${s.slice(Math.max(0, i - 120), i + 180)}…`;
  return `at character ${i}: ${around(a)} vs ${around(b)}`;
}
