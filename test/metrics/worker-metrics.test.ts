import { randomUUID } from 'node:crypto';
import { appendFile, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { connectSafely } from '../../src/temporal/closed-connection';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { readManifest } from '../../src/contract/manifest';
import { RunLayout, stepRolloutFile } from '../../src/contract/run-layout';
import { rftRun } from '../../workflows/rft-run';
import { startFakeBedrock, bedrockErrors, type FakeBedrock } from '../support/fake-bedrock';
import { markerJudge, TEST_MODEL, userText } from '../support/fake-bedrock-env';
import { tempDir, writeSteps } from '../support/fixtures';
import { killChildren, spawnWorker } from '../helpers/processes';
import { arbiterDataConverter } from '../../src/temporal/payload-compression';

/**
 * A real worker process with ARBITER_METRICS_ADDRESS set, judging a short Bedrock run against
 * the fake: its Prometheus endpoint is scraped while the run goes and after it, and Arbiter's
 * counters must agree with what the fake Bedrock saw and what the run wrote.
 */
const REPO = fileURLToPath(new URL('../..', import.meta.url));
const GOOD = 'leaving no continuity';
const STEPS = 2;
const PER_STEP = 20;
/** The one rollout whose judge call Bedrock refuses for good: a fallback with reason `server`. */
const REFUSED = '[s2-r4]';

let fake: FakeBedrock;
let connection: Connection;

beforeAll(async () => {
  fake = await startFakeBedrock({
    seed: 9,
    latencyMs: [40, 80],
    respond: markerJudge(GOOD),
    faults: (call) => (userText(call).includes(REFUSED) ? bedrockErrors.validation : undefined),
  });
  connection = await connectSafely({ address: inject('temporalAddress') });
});

afterAll(async () => {
  await killChildren();
  await connection?.close();
  await fake?.close();
});

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Prometheus text format, as `name{labels}` → value (labels as the exporter printed them). */
type Samples = { name: string; labels: Record<string, string>; value: number }[];

function parse(text: string): Samples {
  const samples: Samples = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)$/.exec(line);
    if (!match) continue;
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[pair[1]!] = pair[2]!;
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

function sum(samples: Samples, name: string, labels: Record<string, string> = {}): number {
  return samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((n, s) => n + s.value, 0);
}

describe('worker metrics', () => {
  it('exposes Temporal’s and Arbiter’s metrics on a Prometheus endpoint, scraped during and after a run', async () => {
    const dir = await tempDir('arbiter-metrics-');
    const rollouts = join(dir, 'rollouts');
    await writeSteps(rollouts, STEPS, PER_STEP);
    await appendFile(stepRolloutFile(rollouts, 1), '{"id": "broken\n'); // one quarantined line
    const outputDir = join(dir, 'out');
    const port = await freePort();
    const taskQueue = `metrics-${randomUUID()}`;
    const worker = spawnWorker({
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      ARBITER_TASK_QUEUE: taskQueue,
      ARBITER_METRICS_ADDRESS: `127.0.0.1:${port}`,
      AWS_ENDPOINT_URL_BEDROCK_RUNTIME: fake.url,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'AKIDFAKEBEDROCKTEST',
      AWS_SECRET_ACCESS_KEY: 'fake-bedrock-test-secret',
    });
    await worker.ready;
    const scrape = async () => parse(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text());

    const price = { inputPerMTok: 0.8, outputPerMTok: 4 };
    const handle = await new Client({ connection, dataConverter: arbiterDataConverter }).workflow.start(rftRun, {
      taskQueue,
      workflowId: `metrics-${randomUUID()}`,
      args: [{
        runId: 'metrics',
        steps: STEPS,
        rollouts: { type: 'directory', path: rollouts },
        outputDir,
        judge: { provider: 'bedrock', model: TEST_MODEL, rubric: { criteria: [{ id: 'flags_risk', description: 'Says whether the clause is risky' }] }, quota: { requestsPerMinute: 60_000, maxInFlight: 4 } },
        prices: { [TEST_MODEL]: price },
        chunkSize: 10,
        cache: false,
      }],
    });

    // During the run: judge calls show up before it ends.
    let during: Samples = [];
    for (let i = 0; i < 300; i++) {
      during = await scrape();
      if (sum(during, 'arbiter_judge_calls') > 0) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const callsDuring = sum(during, 'arbiter_judge_calls');
    expect(callsDuring).toBeGreaterThan(0);
    // Mid-run: judge counters move call by call, before the last step is checkpointed.
    expect(sum(during, 'arbiter_steps_checkpointed')).toBeLessThan(STEPS);
    await handle.result();
    const after = await scrape();

    // Arbiter's counters against what the fake saw and what the run wrote.
    const manifest = await readManifest(RunLayout.of(outputDir, 'metrics').manifest);
    const summaries = manifest.map((m) => m.summary);
    const judged = summaries.reduce((n, s) => n + s.calls, 0);
    expect(judged).toBe(fake.stats.requests); // every model call is one judge question here
    expect(sum(after, 'arbiter_judge_calls', { model: TEST_MODEL, outcome: 'ok' })).toBe(fake.stats.ok);
    expect(sum(after, 'arbiter_judge_calls', { outcome: 'server' })).toBe(1);
    expect(sum(after, 'arbiter_judge_calls')).toBe(judged);
    expect(callsDuring).toBeLessThanOrEqual(judged);
    expect(sum(after, 'arbiter_judge_call_latency_seconds_count')).toBe(judged);
    expect(sum(after, 'arbiter_judge_tokens', { kind: 'input' })).toBe(fake.stats.inputTokens);
    expect(sum(after, 'arbiter_judge_tokens', { kind: 'output' })).toBe(fake.stats.outputTokens);
    expect(sum(after, 'arbiter_steps_checkpointed', { run_id: 'metrics' })).toBe(STEPS);
    expect(sum(after, 'arbiter_rollouts', { status: 'scored' })).toBe(STEPS * PER_STEP - 1);
    expect(sum(after, 'arbiter_rollouts', { status: 'fallback' })).toBe(1);
    expect(sum(after, 'arbiter_fallbacks', { reason: 'server' })).toBe(1);
    expect(sum(after, 'arbiter_quarantined_lines')).toBe(1);
    const cost = summaries.reduce((n, s) => n + Math.round(s.costUsd * 1e6), 0);
    expect(cost).toBeGreaterThan(0);
    expect(sum(after, 'arbiter_estimated_cost_microusd', { run_id: 'metrics' })).toBe(cost);
    expect(sum(after, 'arbiter_limiter_requests_per_minute', { model: TEST_MODEL })).toBe(60_000);
    expect(sum(after, 'arbiter_limiter_in_flight')).toBe(0);

    // Temporal's own worker metrics come out of the same endpoint.
    const names = new Set(after.map((s) => s.name));
    expect(names).toContain('temporal_activity_execution_latency_count');
    expect(sum(after, 'temporal_activity_execution_latency_count', { activity_type: 'scoreChunk' })).toBeGreaterThanOrEqual(4);
    expect(sum(after, 'temporal_workflow_completed', { workflow_type: 'rftRun' })).toBe(1);

    // Every series the provisioned Grafana dashboard queries is one this worker exports, except
    // counters that appear only once their event happened (no throttle or failed activity here).
    const dashboard = JSON.parse(await readFile(join(REPO, 'deploy/grafana/dashboards/arbiter.json'), 'utf8')) as { panels: { targets?: { expr: string }[] }[] };
    const queried = new Set(dashboard.panels.flatMap((p) => p.targets ?? []).flatMap((t) => t.expr.match(/\b(?:arbiter|temporal)_\w+/g) ?? []));
    const onEventOnly = ['arbiter_judge_throttles', 'temporal_activity_execution_failed'];
    expect([...queried].filter((name) => !names.has(name) && !onEventOnly.includes(name))).toEqual([]);
    expect(queried.size).toBeGreaterThan(10);
    await worker.kill();
  });
});
