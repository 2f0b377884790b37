import { describe, expect, it } from 'vitest';
import { ChatCallError } from '../../src/call-policy/chat-call-error';
import { LlmPreferenceJudge } from '../../src/judges/llm-preference-judge';
import { planPairs, winRates, type PreferenceOutcome } from '../../src/judges/preference';
import { ScriptedChat } from './scripted-chat';

const ids = (n: number) => Array.from({ length: n }, (_, i) => `r${i}`);

function degrees(group: string[], pairs: [string, string][]): number[] {
  const deg = new Map(group.map((id) => [id, 0]));
  for (const [a, b] of pairs) {
    deg.set(a, deg.get(a)! + 1);
    deg.set(b, deg.get(b)! + 1);
  }
  return [...deg.values()];
}

function connected(group: string[], pairs: [string, string][]): boolean {
  const seen = new Set([group[0]!]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const [a, b] of pairs) {
      if (seen.has(a) !== seen.has(b)) {
        seen.add(a);
        seen.add(b);
        grew = true;
      }
    }
  }
  return seen.size === group.length;
}

describe('planPairs', () => {
  it('takes every pair of a small group', () => {
    expect(planPairs(['a', 'b', 'c', 'd'], { maxPairsPerGroup: 6, seed: 1 })).toEqual([
      ['a', 'b'],
      ['a', 'c'],
      ['a', 'd'],
      ['b', 'c'],
      ['b', 'd'],
      ['c', 'd'],
    ]);
    expect(planPairs(['a'], { maxPairsPerGroup: 6, seed: 1 })).toEqual([]);
    expect(planPairs([], { maxPairsPerGroup: 6, seed: 1 })).toEqual([]);
  });

  it('stays within the bound, never repeats a pair and keeps members balanced', () => {
    // Plain checks collected into one assertion: a few thousand plans, expect() per pair is slow.
    const problems: string[] = [];
    for (let n = 3; n <= 24; n++) {
      const group = ids(n);
      const members = new Set(group);
      const all = (n * (n - 1)) / 2;
      for (let max = 1; max <= all + 2; max++) {
        const where = `n=${n} max=${max}`;
        const pairs = planPairs(group, { maxPairsPerGroup: max, seed: `step-${n}-${max}` });
        if (pairs.length !== Math.min(max, all)) problems.push(`${where}: ${pairs.length} pairs`);
        const keys = new Set(pairs.map(([a, b]) => (a < b ? `${a}|${b}` : `${b}|${a}`)));
        if (keys.size !== pairs.length) problems.push(`${where}: a pair repeats`);
        if (pairs.some(([a, b]) => a === b || !members.has(a) || !members.has(b))) problems.push(`${where}: bad pair`);
        const deg = degrees(group, pairs);
        if (Math.max(...deg) - Math.min(...deg) > 2) problems.push(`${where}: degrees ${deg.join(',')}`);
        if (max >= n && (Math.min(...deg) < 2 || !connected(group, pairs))) problems.push(`${where}: not a connected cover`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('gives every member exactly the same number of comparisons when offsets are whole', () => {
    // n = 16: offsets 1 and 2 give 32 pairs, 4 comparisons each.
    const deg = degrees(ids(16), planPairs(ids(16), { maxPairsPerGroup: 32, seed: 9 }));
    expect(new Set(deg)).toEqual(new Set([4]));
  });

  it('is deterministic for a seed and varies with it', () => {
    const group = ids(16);
    const one = planPairs(group, { maxPairsPerGroup: 20, seed: 'run-1:step-7:g3' });
    expect(planPairs(group, { maxPairsPerGroup: 20, seed: 'run-1:step-7:g3' })).toEqual(one);
    expect(planPairs(group, { maxPairsPerGroup: 20, seed: 'run-1:step-8:g3' })).not.toEqual(one);
  });

  it('rejects a bad bound and duplicate ids', () => {
    expect(() => planPairs(ids(3), { maxPairsPerGroup: 0, seed: 1 })).toThrow(/maxPairsPerGroup/);
    expect(() => planPairs(ids(3), { maxPairsPerGroup: 1.5, seed: 1 })).toThrow(/maxPairsPerGroup/);
    expect(() => planPairs(['a', 'a'], { maxPairsPerGroup: 3, seed: 1 })).toThrow(/unique/);
  });
});

const cost = { usage: { inputTokens: 10, outputTokens: 2 }, latencyMs: 5, attempts: 2 };
function won(a: string, b: string, winner: 'a' | 'b' | 'tie', inconsistent = false): PreferenceOutcome {
  return { a, b, ok: true, winner, inconsistent, votes: [winner, winner], rationale: '', ...cost };
}

describe('winRates', () => {
  it('rewards (wins + half the ties) / comparisons', () => {
    const report = winRates(
      ['x', 'y', 'z'],
      [won('x', 'y', 'a'), won('x', 'z', 'tie'), won('y', 'z', 'b'), won('z', 'x', 'tie', true)],
    );
    expect(report.rates).toEqual([
      { id: 'x', reward: (1 + 0.5 * 2) / 3, wins: 1, ties: 2, losses: 0, comparisons: 3, failed: 0, inconsistent: 1, noComparisons: false },
      { id: 'y', reward: 0, wins: 0, ties: 0, losses: 2, comparisons: 2, failed: 0, inconsistent: 0, noComparisons: false },
      { id: 'z', reward: (1 + 0.5 * 2) / 3, wins: 1, ties: 2, losses: 0, comparisons: 3, failed: 0, inconsistent: 1, noComparisons: false },
    ]);
    expect(report).toMatchObject({ usage: { inputTokens: 40, outputTokens: 8 }, latencyMs: 20, attempts: 8, failures: [] });
  });

  it('excludes failed comparisons, reports them and gives 0.5 to a response left without comparisons', () => {
    const failed: PreferenceOutcome = { a: 'x', b: 'z', ok: false, reason: 'parse', message: 'bad json', ...cost };
    const report = winRates(['x', 'y', 'z'], [won('x', 'y', 'b'), failed]);
    expect(report.failures).toEqual([{ a: 'x', b: 'z', reason: 'parse', message: 'bad json' }]);
    expect(report.rates.map((r) => [r.id, r.reward, r.comparisons, r.failed, r.noComparisons])).toEqual([
      ['x', 0, 1, 1, false],
      ['y', 1, 1, 0, false],
      ['z', 0.5, 0, 1, true],
    ]);
    expect(report.attempts).toBe(4);
  });

  it('refuses comparisons with ids outside the group', () => {
    expect(() => winRates(['x', 'y'], [won('x', 'q', 'a')])).toThrow(/not between/);
    expect(() => winRates(['x', 'y'], [won('x', 'x', 'a')])).toThrow(/not between/);
    expect(() => winRates(['x', 'x'], [])).toThrow(/duplicate/);
  });
});

describe('LlmPreferenceJudge', () => {
  const RUBRIC = { criteria: [{ id: 'correct', description: 'Gives the right answer.' }] };
  const prompt = 'Capital of France?';
  const a = { id: 'ra', prompt, response: 'Paris', reference: 'Paris' };
  const b = { id: 'rb', prompt, response: 'Lyon' };
  const answer = (winner: string, rationale = `says ${winner}`) => JSON.stringify({ winner, rationale });
  const make = (chat: ScriptedChat) => new LlmPreferenceJudge({ chat, rubric: RUBRIC, nonce: () => 'n1' });

  it('asks twice with the order swapped and keeps an agreeing winner', async () => {
    // a wins both times: "A" when a is shown first, "B" when b is shown first.
    const chat = new ScriptedChat([answer('A'), answer('B')]);
    const outcome = await make(chat).compare(prompt, a, b);
    expect(outcome).toMatchObject({
      a: 'ra',
      b: 'rb',
      ok: true,
      winner: 'a',
      inconsistent: false,
      votes: ['a', 'a'],
      usage: { inputTokens: 200, outputTokens: 40 },
      latencyMs: 20,
      attempts: 2,
    });
    expect(outcome.ok && outcome.rationale).toBe('With ra as A: says A\nWith rb as A: says B');
    const [first, second] = chat.requests.map((r) => r.messages[0]!.text);
    expect(first).toContain('<<<RESPONSE_A_n1>>>\nParis\n<<<END_RESPONSE_A_n1>>>');
    expect(first).toContain('<<<RESPONSE_B_n1>>>\nLyon\n<<<END_RESPONSE_B_n1>>>');
    expect(second).toContain('<<<RESPONSE_A_n1>>>\nLyon\n<<<END_RESPONSE_A_n1>>>');
    expect(second).toContain('<<<RESPONSE_B_n1>>>\nParis\n<<<END_RESPONSE_B_n1>>>');
    expect(first).toContain('<<<REFERENCE_ANSWER_n1>>>\nParis\n');
  });

  it('turns a flip with the order into a tie flagged inconsistent', async () => {
    // The judge always picks whatever is shown first.
    const chat = new ScriptedChat([answer('A'), answer('A')]);
    const outcome = await make(chat).compare(prompt, a, b);
    expect(outcome).toMatchObject({ ok: true, winner: 'tie', inconsistent: true, votes: ['a', 'b'] });
  });

  it('keeps agreeing ties and turns a win that does not survive the swap into an unflagged tie', async () => {
    expect(await make(new ScriptedChat([answer('tie'), answer('tie')])).compare(prompt, a, b)).toMatchObject({
      winner: 'tie',
      inconsistent: false,
    });
    expect(await make(new ScriptedChat([answer('B'), answer('tie')])).compare(prompt, a, b)).toMatchObject({
      winner: 'tie',
      inconsistent: false,
      votes: ['b', 'tie'],
    });
  });

  it('re-asks a bad answer within one order', async () => {
    const chat = new ScriptedChat(['I pick A', answer('A'), answer('B')]);
    const outcome = await make(chat).compare(prompt, a, b);
    expect(outcome).toMatchObject({ ok: true, winner: 'a', attempts: 3 });
    expect(chat.requests[1]!.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user']);
    expect(chat.requests[1]!.messages[2]!.text).toContain('{"winner":"A","rationale":"..."}');
    // The swapped order starts a fresh conversation.
    expect(chat.requests[2]!.messages).toHaveLength(1);
  });

  it('fails the comparison when the first order fails, without asking the second', async () => {
    const chat = new ScriptedChat(['nope', 'still nope']);
    const outcome = await make(chat).compare(prompt, a, b);
    expect(outcome).toMatchObject({ ok: false, reason: 'parse', attempts: 2, a: 'ra', b: 'rb' });
    expect(!outcome.ok && outcome.message).toMatch(/^with ra shown first: /);
    expect(chat.requests).toHaveLength(2);
  });

  it('fails the comparison when the second order fails, counting both orders', async () => {
    const chat = new ScriptedChat([answer('A'), new ChatCallError('server', 'HTTP 503', true, 7)]);
    const outcome = await make(chat).compare(prompt, a, b);
    expect(outcome).toMatchObject({ ok: false, reason: 'server', attempts: 2, latencyMs: 17, usage: { inputTokens: 100 } });
    expect(!outcome.ok && outcome.message).toBe('with rb shown first: HTTP 503');
  });

  it('decides empty responses without the model', async () => {
    const chat = new ScriptedChat([]);
    const judge = make(chat);
    expect(await judge.compare(prompt, a, { ...b, response: '  ' })).toMatchObject({ ok: true, winner: 'a', attempts: 0 });
    expect(await judge.compare(prompt, { ...a, response: '' }, b)).toMatchObject({ ok: true, winner: 'b', attempts: 0 });
    expect(await judge.compare(prompt, { ...a, response: '' }, { ...b, response: '\n' })).toMatchObject({
      ok: true,
      winner: 'tie',
      inconsistent: false,
      attempts: 0,
    });
    expect(chat.requests).toHaveLength(0);
  });

  it('feeds winRates end to end', async () => {
    const chat = new ScriptedChat([answer('A'), answer('B'), answer('A'), answer('A')]);
    const judge = make(chat);
    const c = { id: 'rc', prompt, response: 'Marseille' };
    const outcomes = [await judge.compare(prompt, a, b), await judge.compare(prompt, a, c)];
    const rates = winRates(['ra', 'rb', 'rc'], outcomes).rates.map((r) => r.reward);
    expect(rates).toEqual([0.75, 0, 0.5]);
  });
});
