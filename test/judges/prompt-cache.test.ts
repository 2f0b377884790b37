import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BedrockChatModel } from '../../src/judges/bedrock-chat';
import type { ChatRequest } from '../../src/judges/chat-model';
import { buildJudge } from '../../src/judges/build-judge';
import { promptCachePlan, promptCacheSupport, withCachePrices } from '../../src/config/prompt-cache-support';
import { parseRunConfig } from '../../src/config/run-config';
import { RunLayout } from '../../src/contract/run-layout';
import { prepareBatch } from '../../src/steps/prepare-batch';
import { judgeChunk } from '../../src/steps/judge-chunk';
import { writeCheckpoint } from '../../src/steps/checkpoint';
import { estimateTokens, type ConverseRequestBody, type FakeCall } from '../support/fake-bedrock';
import { TEST_MODEL } from '../support/fake-bedrock-env';
import { rollout, tempDir } from '../support/fixtures';
import { fakeBedrockPerFile } from '../helpers/fake-bedrock-per-file';
import { defaultRespond } from '../support/fake-bedrock';

const bodies: ConverseRequestBody[] = [];
const fake = fakeBedrockPerFile({
  seed: 5,
  respond: (call: FakeCall) => {
    bodies.push(call.body);
    return defaultRespond(call);
  },
});
const models: BedrockChatModel[] = [];
afterEach(() => {
  fake.setOptions({ promptCache: undefined, latencyMs: 0 });
  fake.reset();
  bodies.length = 0;
  for (const m of models.splice(0)) m.close();
});

/** A rubric as a legal or clinical team writes one: many criteria, each explained at length. */
const LONG_RUBRIC = {
  criteria: Array.from({ length: 14 }, (_, i) => ({
    id: `criterion_${i}`,
    description:
      `Criterion ${i}: the response identifies the governing clause of the agreement, states the obligation it creates, ` +
      'names the party that bears it, explains the consequence of a breach including any cure period and its length, ' +
      'and distinguishes the case where the counterparty has waived the right in writing from the case where it has not. ' +
      'A response that merely paraphrases the question, or that cites a clause number without its substance, fails.',
  })),
};
// 3.5 Haiku caches prefixes of 2,048 tokens or more (the fake counts four characters a token).
const HAIKU_MIN = promptCacheSupport(TEST_MODEL)!.minTokens;

function model(id: string, promptCache?: boolean): BedrockChatModel {
  const m = new BedrockChatModel({ model: id, ...(promptCache !== undefined && { promptCache }) });
  models.push(m);
  return m;
}

function request(system: string, text: string): ChatRequest {
  return { system, messages: [{ role: 'user', text }], temperature: 0, maxTokens: 256 };
}

const longSystem = 'You are a grader. Criteria:\n- [accurate] the facts are right\n' + 'Rules of grading. '.repeat(600);
const systemTokens = estimateTokens(longSystem);

describe('Bedrock prompt caching, real SDK against the fake Bedrock', () => {
  it('marks the system prompt with a cache point; the first call writes the cache, later ones read it', async () => {
    expect(systemTokens).toBeGreaterThanOrEqual(HAIKU_MIN);
    const haiku = model(TEST_MODEL);
    const usages = [];
    for (const answer of ['The sky is blue.', 'Grass is green.', 'Snow is white.']) {
      usages.push((await haiku.complete(request(longSystem, `<response>${answer}</response>`))).usage);
    }
    expect(bodies[0]!.system).toEqual([{ text: longSystem }, { cachePoint: { type: 'default' } }]);
    expect(usages[0]).toMatchObject({ cacheWriteInputTokens: systemTokens });
    expect(usages[0]!.cacheReadInputTokens).toBeUndefined();
    for (const usage of usages.slice(1)) {
      expect(usage.cacheReadInputTokens).toBe(systemTokens);
      expect(usage.cacheWriteInputTokens).toBeUndefined();
    }
    // Only what follows the cache point is billed as input: the user turn (and the join).
    const full = estimateTokens(`${longSystem}\n<response>Grass is green.</response>`);
    expect(usages[1]!.inputTokens).toBe(full - systemTokens);
    expect(fake.stats).toMatchObject({ cacheWriteInputTokens: systemTokens, cacheReadInputTokens: 2 * systemTokens });
  });

  it('caches nothing below the model minimum or after the TTL, as Bedrock', async () => {
    const short = 'You are a grader. Criteria:\n- [accurate] the facts are right';
    const haiku = model(TEST_MODEL);
    const a = await haiku.complete(request(short, 'one'));
    const b = await haiku.complete(request(short, 'two'));
    expect(bodies[1]!.system?.[1]).toEqual({ cachePoint: { type: 'default' } });
    expect([a.usage, b.usage]).toEqual([
      { inputTokens: estimateTokens(`${short}\none`), outputTokens: a.usage.outputTokens },
      { inputTokens: estimateTokens(`${short}\ntwo`), outputTokens: b.usage.outputTokens },
    ]);

    fake.setOptions({ promptCache: { ttlMs: 0 } });
    const c = await haiku.complete(request(longSystem + ' ttl', 'one'));
    const d = await haiku.complete(request(longSystem + ' ttl', 'two'));
    expect(c.usage.cacheWriteInputTokens).toBeGreaterThan(0);
    expect(d.usage.cacheWriteInputTokens).toBe(c.usage.cacheWriteInputTokens);
    expect(d.usage.cacheReadInputTokens).toBeUndefined();
  });

  it('a model without caching support gets no cache point (Bedrock would refuse one)', async () => {
    const llama = 'meta.llama3-1-70b-instruct-v1:0';
    expect(promptCacheSupport(llama)).toBeUndefined();
    const response = await model(llama).complete(request(longSystem, 'one'));
    expect(bodies[0]!.system).toEqual([{ text: longSystem }]);
    expect(response.usage.cacheReadInputTokens).toBeUndefined();
    expect(response.usage.inputTokens).toBe(estimateTokens(`${longSystem}\none`));

    // Forcing it on shows what the flag guards against: the fake refuses it as Bedrock does.
    await expect(model(llama, true).complete(request(longSystem, 'two'))).rejects.toMatchObject({ retryable: false, code: 'ValidationException' });
    // And a run may turn it off for a model that supports it.
    await model(TEST_MODEL, false).complete(request(longSystem, 'three'));
    expect(bodies.at(-1)!.system).toEqual([{ text: longSystem }]);
  });

  it('knows the models and prices of the AWS tables, including inference profiles and ARNs', () => {
    expect(promptCacheSupport('us.anthropic.claude-3-7-sonnet-20250219-v1:0')?.minTokens).toBe(1024);
    expect(promptCacheSupport('global.anthropic.claude-sonnet-4-5-20250929-v1:0')?.minTokens).toBe(1024);
    expect(promptCacheSupport('anthropic.claude-haiku-4-5-20251001-v1:0')?.minTokens).toBe(4096);
    expect(promptCacheSupport('arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-lite-v1:0')?.family).toBe('nova');
    expect(promptCacheSupport('anthropic.claude-3-5-sonnet-20241022-v2:0')).toBeUndefined();
    expect(withCachePrices({ inputPerMTok: 0.8, outputPerMTok: 4 }, TEST_MODEL)).toEqual({
      inputPerMTok: 0.8,
      outputPerMTok: 4,
      cacheReadPerMTok: expect.closeTo(0.08, 12),
      cacheWritePerMTok: 1,
    });
    expect(withCachePrices({ inputPerMTok: 1, outputPerMTok: 4, cacheReadPerMTok: 0.5 }, 'amazon.nova-pro-v1:0')).toMatchObject({
      cacheReadPerMTok: 0.5,
      cacheWritePerMTok: 1,
    });
  });
});

describe('promptCachePlan (arbiter config validate)', () => {
  it('says when a rubric is too short for the model to cache, and when caching is off', () => {
    expect(promptCachePlan(TEST_MODEL, undefined, 'x'.repeat(4000))).toMatch(
      /no saving on the rubric: its prompt \(~1000 tokens\) is below the 2048 .*; a group's prompt and reference are cached with it once they reach ~1048 tokens \(shorter ones are not cached\)$/,
    );
    expect(promptCachePlan(TEST_MODEL, undefined, 'x'.repeat(9000))).toMatch(/^on: the rubric prompt \(~2250 tokens\) is cached.*; each group's prompt and reference are cached too/);
    expect(promptCachePlan(TEST_MODEL, false, 'x')).toBe('off (judge.promptCache: false)');
    expect(promptCachePlan('meta.llama3-1-70b-instruct-v1:0', undefined, 'x')).toMatch(/^off \(meta\.llama/);
  });
});

describe('a step judged with prompt caching', () => {
  it('accounts cache reads and writes in reward records and the step summary, and prices them', async () => {
    const dir = await tempDir();
    const price = { inputPerMTok: 0.8, outputPerMTok: 4 };
    const config = parseRunConfig({
      steps: 1,
      rollouts: { type: 'directory', path: dir },
      judge: { provider: 'bedrock', model: TEST_MODEL, rubric: LONG_RUBRIC, quota: { maxInFlight: 1 } },
      prices: { [TEST_MODEL]: price },
    });
    if (config.judge.provider !== 'bedrock') throw new Error('bedrock judge expected');
    const source = join(dir, 'step.jsonl');
    const ids = Array.from({ length: 6 }, (_, i) => `r${i}`);
    await writeFile(source, ids.map((id) => JSON.stringify(rollout(id, { response: `answer ${id}` }))).join('\n') + '\n');
    const layout = new RunLayout(join(dir, 'run'));
    const info = await prepareBatch({ source, layout, step: 1, chunkSize: 6 });
    const judge = await buildJudge(config.judge, {});
    try {
      // One call at a time: the first writes the cache, the five after it read it.
      await judgeChunk({ runId: 'r', layout, step: 1, chunk: 0, judge: { ...judge, concurrency: 1 }, rewards: config.rewards, fallback: config.fallback });
    } finally {
      await judge.close();
    }
    const { entry } = await writeCheckpoint({ layout, step: 1, chunkCount: info.chunkCount, quarantined: 0, price });
    const s = entry.summary;
    const prefix = fake.stats.cacheWriteInputTokens;
    expect(prefix).toBeGreaterThanOrEqual(HAIKU_MIN);
    expect(s).toMatchObject({ count: 6, scored: 6, cacheWriteInputTokens: prefix, cacheReadInputTokens: 5 * prefix });
    expect(s.inputTokens).toBe(fake.stats.inputTokens);
    const expected = (s.inputTokens * 0.8 + s.outputTokens * 4 + 5 * prefix * 0.08 + prefix * 1) / 1e6;
    expect(s.costUsd).toBeCloseTo(expected, 6);
    // Without caching every call would pay the prefix in full: input costs well under half that.
    const inputCost = s.costUsd - (s.outputTokens * 4) / 1e6;
    expect(inputCost).toBeLessThan(((s.inputTokens + 6 * prefix) * 0.8 / 1e6) * 0.5);
    const records = (await readFile(layout.rewards(1), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    expect(records.filter((r) => r.judge.cacheWriteInputTokens === prefix)).toHaveLength(1);
    expect(records.filter((r) => r.judge.cacheReadInputTokens === prefix)).toHaveLength(5);
  });
});

describe('group prompt caching: a group pays for its shared document once', () => {
  /** A contract of ~3,000 tokens: what GRPO's group shares in the cases Arbiter is for. */
  const documentOf = (name: string) => `Master services agreement ${name}.\n` + `Clause: the supplier shall give thirty days' written notice before any termination. `.repeat(140);
  const group = (name: string, n: number) =>
    Array.from({ length: n }, (_, i) => rollout(`${name}-${i}`, { group: name, prompt: `${documentOf(name)}\nFlag the legal risk.`, response: `Answer ${i} of ${name}: notice is required.` }));

  it('puts a second cache point after the prompt and reference, judges each group’s first alone, and its followers read the group’s prefix', async () => {
    const dir = await tempDir();
    const config = parseRunConfig({
      steps: 1,
      rollouts: { type: 'directory', path: dir },
      // A short rubric: alone below Haiku's 2,048-token minimum, so only the group's prefix is cached.
      judge: { provider: 'bedrock', model: TEST_MODEL, rubric: { criteria: [{ id: 'accurate', description: 'the facts are right' }] }, quota: { maxInFlight: 8, requestsPerMinute: 60_000 } },
    });
    if (config.judge.provider !== 'bedrock') throw new Error('bedrock judge expected');
    const source = join(dir, 'step.jsonl');
    // The groups' rollouts interleaved, as a trainer may send them: the batch gathers each group into its chunk.
    const a = group('msa-a', 4);
    const b = group('msa-b', 4);
    await writeFile(source, a.flatMap((r, i) => [r, b[i]!]).map((r) => JSON.stringify(r)).join('\n') + '\n');
    const layout = new RunLayout(join(dir, 'run'));
    await prepareBatch({ source, layout, step: 1, chunkSize: 8, keepGroupsTogether: true });
    // Calls that take a while, as a model's do: sent together, all eight would be in flight at once.
    fake.setOptions({ latencyMs: 150 });
    const judge = await buildJudge(config.judge, {});
    try {
      expect(judge.groupCached?.(a[0]!)).toBe(true);
      await judgeChunk({ runId: 'r', layout, step: 1, chunk: 0, judge, rewards: config.rewards, fallback: config.fallback });
    } finally {
      await judge.close();
    }
    expect(bodies).toHaveLength(8);
    // The user turn: the shared part (task line, prompt, reference), a cache point, then the response.
    for (const body of bodies) {
      const content = body.messages![0]!.content!;
      expect(content).toHaveLength(3);
      expect(content[1]).toEqual({ cachePoint: { type: 'default' } });
      expect(content[0]!.text).toContain('Master services agreement msa-');
      expect(content[0]!.text).not.toContain('Answer ');
      expect(content[2]!.text).toMatch(/^The response to grade:/);
    }
    // Byte-identical within a group (one nonce per group), different across groups.
    const prefixes = new Map<string, Set<string>>();
    for (const body of bodies) {
      const text = body.messages![0]!.content![0]!.text!;
      const name = /agreement (msa-[ab])/.exec(text)![1]!;
      prefixes.set(name, (prefixes.get(name) ?? new Set()).add(text));
    }
    expect([...prefixes.values()].map((s) => s.size)).toEqual([1, 1]);

    const records = (await readFile(layout.chunkRewards(1, 0, (await readFile(layout.batchKey(1), 'utf8')).trim()), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { id: string; judge: { cacheReadInputTokens?: number; cacheWriteInputTokens?: number } });
    expect(records).toHaveLength(8);
    // Eight calls at most in flight, yet one write per group: its first; the three others read it.
    const writers = records.filter((r) => (r.judge.cacheWriteInputTokens ?? 0) > 0).map((r) => r.id.replace(/-\d$/, ''));
    expect(writers.sort()).toEqual(['msa-a', 'msa-b']);
    const prefixTokens = records.find((r) => r.judge.cacheWriteInputTokens)!.judge.cacheWriteInputTokens!;
    expect(prefixTokens).toBeGreaterThanOrEqual(HAIKU_MIN);
    expect(records.filter((r) => r.judge.cacheReadInputTokens === prefixTokens)).toHaveLength(6);
  });

  it('does not hold a group back, nor add a cache point, when its prefix is below the model minimum', async () => {
    const dir = await tempDir();
    const config = parseRunConfig({
      steps: 1,
      rollouts: { type: 'directory', path: dir },
      judge: { provider: 'bedrock', model: TEST_MODEL, rubric: { criteria: [{ id: 'accurate', description: 'the facts are right' }] } },
    });
    if (config.judge.provider !== 'bedrock') throw new Error('bedrock judge expected');
    const judge = await buildJudge(config.judge, {});
    try {
      expect(judge.groupCached?.(rollout('short', { group: 'g' }))).toBe(false);
      await judge.rubric(rollout('short', { group: 'g' }));
    } finally {
      await judge.close();
    }
    expect(bodies[0]!.messages![0]!.content).toHaveLength(1);
    expect(fake.stats).toMatchObject({ cacheReadInputTokens: 0, cacheWriteInputTokens: 0 });

    // A long document, but the run caches the rubric only.
    const rubricOnly = parseRunConfig({
      steps: 1,
      rollouts: { type: 'directory', path: dir },
      judge: { provider: 'bedrock', model: TEST_MODEL, groupPromptCache: false, rubric: { criteria: [{ id: 'accurate', description: 'the facts are right' }] } },
    });
    if (rubricOnly.judge.provider !== 'bedrock') throw new Error('bedrock judge expected');
    const off = await buildJudge(rubricOnly.judge, {});
    try {
      expect(off.groupCached?.(group('msa-c', 1)[0]!)).toBe(false);
    } finally {
      await off.close();
    }
  });
});
