import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { JudgeConfigSchema } from '../../src/config/judge-config';
import { parseRunConfig } from '../../src/config/run-config';
import { buildJudge } from '../../src/judges/build-judge';
import { RunLayout } from '../../src/contract/run-layout';
import { prepareBatch } from '../../src/steps/prepare-batch';
import { JudgeAuthError } from '../../src/judges/judge-auth-error';
import { judgeChunk } from '../../src/steps/judge-chunk';
import { bedrockErrors, promptHash, type Fault, type FaultScript } from '../support/fake-bedrock';
import { markerJudge, TEST_MODEL, userText } from '../support/fake-bedrock-env';
import { rollout, tempDir } from '../support/fixtures';
import { fakeBedrockPerFile } from '../helpers/fake-bedrock-per-file';

const fake = fakeBedrockPerFile({ seed: 11, respond: markerJudge('leaving no continuity') });

const rubric = { criteria: [{ id: 'flags_risk', description: 'Flags the risk' }] };

/** Scores 6 rollouts (two marked FAIL-ME) in one chunk against the fake with the given faults. */
async function scoreWith(faults: FaultScript, judge: Record<string, unknown> = {}, fallback: Record<string, unknown> = {}) {
  const dir = await tempDir();
  const source = join(dir, 'step.jsonl');
  const lines = Array.from({ length: 6 }, (_, i) =>
    JSON.stringify(rollout(`r${i}`, { response: `${i < 2 ? 'FAIL-ME ' : ''}High risk, leaving no continuity [${i}]` })),
  );
  await writeFile(source, lines.join('\n') + '\n');
  const layout = new RunLayout(join(dir, 'run'));
  const { key } = await prepareBatch({ source, layout, step: 1, chunkSize: 10 });
  const config = parseRunConfig({ steps: 1, rollouts: { type: 'updates' }, fallback });
  const handle = await buildJudge(
    // A short cool-down: faults that last get their second pass (and their fallback) quickly.
    JudgeConfigSchema.parse({ provider: 'bedrock', model: TEST_MODEL, rubric, quota: { requestsPerMinute: 60_000, maxInFlight: 6 }, recovery: { coolDownSeconds: 0.05 }, ...judge }),
    {},
  );
  fake.reset();
  fake.setOptions({ faults });
  try {
    const result = await judgeChunk({ layout, runId: 'faults', step: 1, chunk: 0, judge: handle, rewards: config.rewards, fallback: config.fallback });
    const records = (await readFile(layout.chunkRewards(1, 0, key), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    return { result, records: new Map(records.map((r) => [r.id, r])) };
  } finally {
    fake.setOptions({ faults: [] });
    await handle.close();
  }
}

/** Faults only for the rollouts marked FAIL-ME; the others are answered normally. */
const forMarked = (fault: Fault): FaultScript => (call) => (userText(call).includes('FAIL-ME') ? fault : undefined);

describe('judge faults become flagged fallbacks with their reason', () => {
  it.each([
    ['server', forMarked({ ...bedrockErrors.internal, type: 'error' }), {}],
    ['server', forMarked({ ...bedrockErrors.serviceUnavailable, type: 'error' }), {}],
    ['throttled', forMarked({ type: 'throttle' }), {}],
    ['timeout', forMarked({ ...bedrockErrors.modelTimeout, type: 'error' }), {}],
    ['timeout', forMarked({ type: 'hang' }), { requestTimeoutMs: 300 }],
    ['parse', forMarked({ type: 'text', text: '{"criteria": [ {"id": "flags_risk", "pass": tru' }), {}],
    ['parse', forMarked({ type: 'text', text: 'The response is good and flags the risk well.' }), {}],
    ['schema', forMarked({ type: 'text', text: '{"criteria": [{"id": "flags_risk", "pass": "yes"}], "rationale": 3}' }), {}],
    ['refusal', forMarked({ type: 'refusal' }), {}],
  ] as const)('%s (%#)', async (reason, faults, judge) => {
    const { result, records } = await scoreWith(faults, { maxAttempts: 2, ...judge });
    expect(result).toMatchObject({ scored: 4, fallback: 2, failures: { [reason]: 2 } });
    for (const id of ['r0', 'r1']) {
      const r = records.get(id);
      expect(r.status).toBe('fallback');
      expect(r.reward).toBe(0.5);
      expect(r.flags).toContain(`fallback:${reason}`);
      expect(r.judge.failure.reason).toBe(reason);
    }
    for (const id of ['r2', 'r3', 'r4', 'r5']) expect(records.get(id).status).toBe('scored');
  });

  it('a throttling storm that passes is absorbed by backoff: no fallbacks', async () => {
    // Every call is throttled twice before it goes through.
    const seen = new Map<string, number>();
    const storm: FaultScript = (call) => {
      const key = userText(call);
      const n = (seen.get(key) ?? 0) + 1;
      seen.set(key, n);
      return n <= 2 ? { type: 'throttle' } : undefined;
    };
    const { result } = await scoreWith(storm, { maxAttempts: 5 });
    expect(result).toMatchObject({ scored: 6, fallback: 0 });
    expect(fake.stats.throttled).toBe(12);
  });

  it('a sample that failed on throttling is judged again after the cool-down, before any fallback', async () => {
    // The marked rollouts are throttled on every try of the first pass only (2 attempts each).
    const seen = new Map<string, number>();
    const firstPassOnly: FaultScript = (call) => {
      const text = userText(call);
      if (!text.includes('FAIL-ME')) return undefined;
      // Without the delimiters' nonce, which is new in every pass.
      const key = promptHash(text);
      const n = (seen.get(key) ?? 0) + 1;
      seen.set(key, n);
      return n <= 2 ? { type: 'throttle' } : undefined;
    };
    const recovered = await scoreWith(firstPassOnly, { maxAttempts: 2 });
    expect(recovered.result).toMatchObject({ scored: 6, fallback: 0 });
    // The failed first pass stays on the record (one judgement asked, then one more).
    expect(recovered.records.get('r0').judge.attempts).toBe(2);

    seen.clear();
    const withoutRecovery = await scoreWith(firstPassOnly, { maxAttempts: 2, recovery: { passes: 0 } });
    expect(withoutRecovery.result).toMatchObject({ scored: 4, fallback: 2, failures: { throttled: 2 } });
  });

  it('a failure that no retry can fix (an unusable answer) is not judged again', async () => {
    const { result } = await scoreWith(forMarked({ type: 'text', text: 'prose, not JSON' }), { maxAttempts: 2 });
    expect(result).toMatchObject({ scored: 4, fallback: 2, failures: { parse: 2 } });
    // Each marked rollout: one ask and one re-ask, in the first pass only.
    expect(fake.stats.requests).toBe(4 + 2 * 2);
  });

  it('fallback policies: deterministic-only and exclude', async () => {
    const faults = forMarked({ ...bedrockErrors.internal, type: 'error' });
    const excluded = await scoreWith(faults, { maxAttempts: 1 }, { policy: 'exclude' });
    expect(excluded.result).toMatchObject({ scored: 4, excluded: 2 });
    expect(excluded.records.get('r0').status).toBe('excluded');
    const deterministic = await scoreWith(faults, { maxAttempts: 1 }, { policy: 'deterministic-only' });
    expect(deterministic.records.get('r0')).toMatchObject({ status: 'fallback', reward: 0.5 });
    expect(deterministic.records.get('r0').notes.join()).toMatch(/no deterministic component/);
  });

  it('expired credentials fail fast, without retries', async () => {
    await expect(scoreWith(() => ({ ...bedrockErrors.expiredToken, type: 'error' }), { maxAttempts: 5 })).rejects.toBeInstanceOf(JudgeAuthError);
    expect(fake.stats.requests).toBeLessThanOrEqual(6);
  });
});
