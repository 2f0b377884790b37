import { describe, expect, it } from 'vitest';
import { JudgeConfigSchema } from '../../src/config/judge-config';
import { buildJudge } from '../../src/judges/build-judge';
import { OFFLINE_HEURISTIC_MODEL, OfflineHeuristicJudge } from '../../src/judges/offline-heuristic';
import { winRates } from '../../src/judges/preference';
import { rollout } from '../support/fixtures';

const good = rollout('good'); // matches the reference: every rule passes
const vague = rollout('vague', { response: 'The customer should read the clause about notice carefully before signing anything.' });
const oneWord = rollout('one', { response: 'Fine.' });
const okay = rollout('okay', { response: 'Looks fine.' });

async function scoreOf(judge: OfflineHeuristicJudge, r: typeof good): Promise<number> {
  const j = await judge.judge(r);
  if (!j.ok) throw new Error('offline judge failed');
  return j.score;
}

describe('offline heuristic judge, preference mode', () => {
  const judge = new OfflineHeuristicJudge();

  it('prefers the higher rule score in both orders, and says it is not an LLM', async () => {
    expect(await scoreOf(judge, good)).toBeGreaterThan(await scoreOf(judge, vague));
    for (const [a, b, winner] of [[good, vague, 'a'], [vague, good, 'b']] as const) {
      const o = await judge.compare(a, b);
      expect(o).toMatchObject({ a: a.id, b: b.id, ok: true, winner, inconsistent: false, votes: [winner, winner], attempts: 2 });
      expect(o.ok && o.rationale).toMatch(/^offline heuristic \(not an LLM\): higher rule score wins/);
    }
  });

  it('picks the response shown first on equal scores, so the two orders disagree: a flagged tie', async () => {
    expect(await scoreOf(judge, oneWord)).toBe(await scoreOf(judge, okay));
    const o = await judge.compare(oneWord, okay);
    // votes[0]: `one` shown first, and picked; votes[1]: `okay` shown first, and picked.
    expect(o).toMatchObject({ ok: true, votes: ['a', 'b'], winner: 'tie', inconsistent: true });
    expect(o.ok && o.rationale).toContain('picks whichever is shown first');
  });

  it('decides empty responses as the LLM judges do, without the rules', async () => {
    const empty = rollout('empty', { response: ' \u200b ' });
    expect(await judge.compare(empty, oneWord)).toMatchObject({ winner: 'b', votes: ['b', 'b'], inconsistent: false, attempts: 0 });
    expect(await judge.compare(empty, { ...empty, id: 'empty2' })).toMatchObject({ winner: 'tie', votes: ['tie', 'tie'], inconsistent: false });
    const o = await judge.compare(oneWord, empty);
    expect(o.ok && o.rationale).toMatch(/^offline heuristic \(not an LLM\): /);
  });

  it('gives win rates through the run interface (buildJudge), with the run defaults for pairs', async () => {
    const handle = await buildJudge(JudgeConfigSchema.parse({ provider: 'offline-heuristic', mode: 'preference' }), {});
    expect(handle.mode).toBe('preference');
    expect(handle.identity).toEqual({ provider: 'offline-heuristic', model: OFFLINE_HEURISTIC_MODEL });
    expect(handle.maxPairsPerGroup).toBe(24);
    expect(handle.minComparisonShare).toBe(0.5);
    const outcomes = [await handle.compare(good, oneWord), await handle.compare(good, okay), await handle.compare(oneWord, okay)];
    const rates = winRates(['good', 'one', 'okay'], outcomes).rates;
    expect(rates.map((r) => [r.id, r.reward, r.inconsistent])).toEqual([
      ['good', 1, 0],
      ['one', 0.25, 1],
      ['okay', 0.25, 1],
    ]);
  });
});

describe('offline heuristic judge settings', () => {
  it('leaves a config without them as it was: rubric mode, no new fields', () => {
    expect(JudgeConfigSchema.parse({ provider: 'offline-heuristic' })).toEqual({ provider: 'offline-heuristic', mode: 'rubric' });
  });

  it('refuses an unknown rule weight and a reference F1 outside (0, 1], naming the field', () => {
    const bad = JudgeConfigSchema.safeParse({ provider: 'offline-heuristic', weights: { length: 2 } });
    expect(bad.success).toBe(false);
    expect(JSON.stringify(bad.error?.issues)).toContain('weights');
    const f1 = JudgeConfigSchema.safeParse({ provider: 'offline-heuristic', minReferenceF1: 0 });
    expect(f1.success).toBe(false);
    expect(f1.error?.issues[0]?.path).toEqual(['minReferenceF1']);
  });

  it('weights and minReferenceF1 make a stricter judge that names its settings', async () => {
    // The vague answer passes non_empty and addresses_prompt, not matches_reference.
    const strict = new OfflineHeuristicJudge({ weights: { matches_reference: 3 }, minReferenceF1: 0.4 });
    expect(await scoreOf(new OfflineHeuristicJudge(), vague)).toBe(0.5);
    expect(await scoreOf(strict, vague)).toBe(0.4);
    expect(await scoreOf(strict, good)).toBe(1);
    expect(strict.model).toBe('offline-heuristic-v1 (not an LLM; matches_reference weight 3, reference F1 >= 0.4)');
    expect(new OfflineHeuristicJudge({ weights: { matches_reference: 2 }, minReferenceF1: 0.3 }).model).toBe(OFFLINE_HEURISTIC_MODEL);
    // A reference overlap between the two thresholds passes by default and fails the stricter one.
    const partial = rollout('partial', { response: 'High risk: the supplier can end the service whenever it likes.' });
    const criterion = async (j: OfflineHeuristicJudge) => {
      const r = await j.judge(partial);
      return r.ok ? r.criteria.find((c) => c.id === 'matches_reference') : undefined;
    };
    expect(await criterion(new OfflineHeuristicJudge())).toMatchObject({ pass: true });
    expect(await criterion(new OfflineHeuristicJudge({ minReferenceF1: 0.6 }))).toMatchObject({ pass: false, evidence: expect.stringContaining('needs 0.6') });
  });
});
