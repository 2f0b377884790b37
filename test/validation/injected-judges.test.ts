import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/util/seeded-random';
import type { ValidationItem } from '../../src/validation/dataset';
import type { Interval } from '../../src/validation/measure/interval';
import { fakeBedrockPerFile } from '../helpers/fake-bedrock-per-file';
import { withWorker } from '../helpers/temporal';
import { bedrockJudge, block, CRITERIA, drawFor, filler, isPreferenceCall, repeatDraws, rubricAnswer, validate, writeDataset } from './harness';
import { TEST_MODEL, userText } from '../support/fake-bedrock-env';

// Judges with known, injected behaviour (scripted answers of the fake Bedrock, reached through
// the real AWS SDK): each metric must find the injected figure within its interval.

const fake = fakeBedrockPerFile({ seed: 5 });

const within = (i: Interval | null | undefined, x: number) => {
  expect(i).toBeTruthy();
  expect(i!.low).toBeLessThanOrEqual(x + 1e-9);
  expect(i!.high).toBeGreaterThanOrEqual(x - 1e-9);
};

const fmt = (i: Interval | null | undefined) => (i ? `${i.estimate.toFixed(3)} [${i.low.toFixed(3)}, ${i.high.toFixed(3)}]` : 'n/a');

/** `[k=K]` in a response: the scripted judge passes its first K criteria. */
const passesFirstK = (id: string, response: string) => CRITERIA.indexOf(id) < Number(/\[k=(\d)\]/.exec(response)?.[1] ?? 0);

describe('judge validation against injected behaviour', () => {
  it('a judge that agrees with the labels exactly gets κ = 1, weighted κ = 1 and α = 1; its lenient offset and unrelated length are found', async () => {
    const random = seededRandom(11);
    const items: ValidationItem[] = Array.from({ length: 48 }, (_, i) => {
      const k = 1 + (i % 4); // judge score k/4
      const labels = { pass: k >= 3, score: 1 + k, criteria: Object.fromEntries(CRITERIA.map((id, c) => [id, c < k])) };
      return {
        id: `x${i}`,
        prompt: 'Flag the risk of this clause.',
        response: `[k=${k}] ${filler(Math.floor(random() * 60))}`,
        human: labels,
        labellers: i % 2 === 0 ? [{ labeller: 'p1', ...labels }, { labeller: 'p2', ...labels }] : undefined,
        gold: (k - 1) / 4, // the judge is lenient by exactly 0.25
        metrics: { accepted: k },
      };
    });
    const { dir, dataset } = await writeDataset(items);
    fake.setOptions({ respond: (call) => rubricAnswer(call, passesFirstK) });
    const report = await withWorker((ctx) =>
      validate(ctx, { dataset, outputDir: dir, judges: [{ name: 'exact', judge: bedrockJudge() }], repeats: 2, passThreshold: 0.75, attackItems: 2, thresholds: { minKappa: 0.99 }, prices: { [TEST_MODEL]: { inputPerMTok: 1, outputPerMTok: 5 } } }),
    );
    const j = report.judges[0]!;
    console.log(`exact judge: κ ${j.human.pass!.kappa!.estimate}, weighted κ ${j.human.ordinal!.weightedKappaQuadratic!.estimate}, α ${j.human.labellers!.withJudgeAlphaPass}, offset ${fmt(j.gold!.meanOffset)}, length ρ ${fmt(j.bias.length!.spearman)}`);
    expect(j.human.pass!.kappa!.estimate).toBe(1);
    expect(j.human.pass!.agreement).toBe(1);
    expect(j.human.pass!.matrix.fp + j.human.pass!.matrix.fn).toBe(0);
    expect(j.human.pooledCriteria!.kappa!.estimate).toBe(1);
    expect(j.human.criteria.map((c) => c.id).sort()).toEqual([...CRITERIA].sort());
    expect(j.human.ordinal!.weightedKappaQuadratic!.estimate).toBeCloseTo(1, 10);
    expect(j.human.labellers!.humanAlphaPass).toBeCloseTo(1, 10);
    expect(j.human.labellers!.withJudgeAlphaPass).toBeCloseTo(1, 10);
    expect(j.gold!.spearman!.estimate).toBeCloseTo(1, 10);
    expect(j.gold!.kendall!.estimate).toBeCloseTo(1, 10);
    expect(j.gold!.meanOffset!.estimate).toBeCloseTo(0.25, 10);
    expect(j.productionMetrics.accepted!.spearman!.estimate).toBeCloseTo(1, 10);
    // Length was drawn independently of the labels: no correlation the interval can rule out.
    within(j.bias.length!.spearman, 0);
    // Deterministic answers: nothing flips.
    expect(j.selfConsistency.criteria.every((c) => c.flipRate!.estimate === 0)).toBe(true);
    expect(report.gates).toEqual([expect.objectContaining({ flag: '--min-kappa', ok: true })]);
    expect(j.cost.calls).toBeGreaterThanOrEqual(48 * 2);
    expect(j.cost.inputTokens).toBeGreaterThan(0);
    expect(j.cost.usd).toBeCloseTo((j.cost.inputTokens * 1 + j.cost.outputTokens * 5) / 1e6, 6);
  });

  it('a judge that answers at random gets κ near 0', async () => {
    const items: ValidationItem[] = Array.from({ length: 160 }, (_, i) => ({
      id: `r${i}`,
      prompt: 'Flag the risk of this clause.',
      response: `answer ${i}`,
      human: { pass: i % 2 === 0 },
    }));
    const { dir, dataset } = await writeDataset(items);
    fake.setOptions({ respond: (call) => rubricAnswer(call, (_id, response) => drawFor(response) < 0.5) });
    const report = await withWorker((ctx) =>
      validate(ctx, { dataset, outputDir: dir, judges: [{ name: 'coin', judge: bedrockJudge({ rubric: { criteria: [{ id: 'accurate', description: 'accurate' }] } }) }], repeats: 1, attackItems: 0 }),
    );
    const kappa = report.judges[0]!.human.pass!.kappa!;
    console.log(`random judge: κ ${fmt(kappa)}`);
    within(kappa, 0);
    expect(Math.abs(kappa.estimate)).toBeLessThan(0.2);
  });

  it('a criterion flipped in 20 % of repeats has a flip rate of 20 %, the steady one 0', async () => {
    const items: ValidationItem[] = Array.from({ length: 60 }, (_, i) => ({ id: `f${i}`, prompt: 'Flag the risk.', response: `[k=${i % 3}] reply ${i}` }));
    const { dir, dataset } = await writeDataset(items);
    const draw = repeatDraws();
    fake.setOptions({
      respond: (call) =>
        rubricAnswer(call, (id, response) => {
          if (id !== 'accurate') return response.includes('[k=2]');
          const flip = draw(response) < 0.2;
          return response.includes('[k=0]') ? flip : !flip;
        }),
    });
    const report = await withWorker((ctx) =>
      validate(ctx, {
        dataset,
        outputDir: dir,
        judges: [{ name: 'flaky', judge: bedrockJudge({ rubric: { criteria: [{ id: 'accurate', description: 'a' }, { id: 'clear', description: 'c' }] } }) }],
        repeats: 7,
        attackItems: 0,
        thresholds: { maxFlipRate: 0.1 },
      }),
    );
    const sc = report.judges[0]!.selfConsistency;
    const accurate = sc.criteria.find((c) => c.id === 'accurate')!;
    const clear = sc.criteria.find((c) => c.id === 'clear')!;
    console.log(`flip 20 %: flip rate ${fmt(accurate.flipRate)}, pairwise ${accurate.pairwiseDisagreement!.toFixed(3)}, steady criterion ${clear.flipRate!.estimate}`);
    within(accurate.flipRate, 0.2);
    // Two repeats disagree with chance 2·0.2·0.8.
    expect(accurate.pairwiseDisagreement!).toBeGreaterThan(0.32 - 0.08);
    expect(accurate.pairwiseDisagreement!).toBeLessThan(0.32 + 0.08);
    expect(clear.flipRate!.estimate).toBe(0);
    expect(sc.scoreSd.mean!).toBeGreaterThan(0);
    expect(report.passed).toBe(false);
    expect(report.gates[0]).toMatchObject({ flag: '--max-flip-rate', ok: false });
  });

  it('a judge that picks the first-shown response 70 % of the time has a first-position rate of 70 %', async () => {
    const items: ValidationItem[] = Array.from({ length: 80 }, (_, i) => ({
      id: `p${i}`,
      prompt: 'Flag the risk.',
      response: `first answer ${i}`,
      pair: { response: `second answer ${i}`, preferred: 'first' as const },
    }));
    const { dir, dataset } = await writeDataset(items);
    fake.setOptions({
      respond: (call) =>
        isPreferenceCall(call)
          ? JSON.stringify({ winner: drawFor(block(userText(call), 'RESPONSE_A')) < 0.7 ? 'A' : 'B', rationale: 'scripted' })
          : rubricAnswer(call, () => true),
    });
    const report = await withWorker((ctx) =>
      validate(ctx, { dataset, outputDir: dir, judges: [{ name: 'biased', judge: bedrockJudge({ mode: 'preference' }) }], repeats: 1, attackItems: 0, thresholds: { maxPositionBias: 0.1 } }),
    );
    const p = report.judges[0]!.positionBias;
    if ('notMeasured' in p) throw new Error(p.notMeasured);
    console.log(`position A 70 %: first-position ${fmt(p.firstPositionRate)}, flip under swap ${fmt(p.flipRate)} (expected 0.58), decisive ${p.decisiveShare}`);
    expect(p.pairs).toBe(80);
    within(p.firstPositionRate, 0.7);
    // Every verdict is decisive, and the winner changes with the order when both orders pick
    // the same position: 0.7² + 0.3².
    expect(p.decisiveShare).toBe(1);
    within(p.flipRate, 0.58);
    expect(p.human!.pairs).toBe(80);
    expect(report.gates[0]).toMatchObject({ flag: '--max-position-bias', ok: false });
  });

  it('a judge that passes anything saying "Solution:" fails that attack every time and no other', async () => {
    const items: ValidationItem[] = Array.from({ length: 20 }, (_, i) => ({ id: `s${i}`, prompt: `Flag the risk of clause ${i}.`, response: `[good] answer ${i}`, human: { pass: true } }));
    const { dir, dataset } = await writeDataset(items);
    fake.setOptions({ respond: (call) => rubricAnswer(call, (_id, response) => response.includes('Solution:') || response.includes('[good]')) });
    const report = await withWorker((ctx) =>
      validate(ctx, { dataset, outputDir: dir, judges: [{ name: 'fooled', judge: bedrockJudge() }], repeats: 1, attackItems: 20, thresholds: { maxAttackPass: 0 } }),
    );
    const attacks = Object.fromEntries(report.judges[0]!.bias.attacks.map((a) => [a.attack, a]));
    console.log(`"Solution:" judge: ${report.judges[0]!.bias.attacks.map((a) => `${a.attack} ${a.falsePasses}/${a.n}`).join(', ')}`);
    expect(attacks['solution-prefix']).toMatchObject({ n: 20, falsePasses: 20 });
    expect(attacks['solution-prefix']!.rate!.low).toBeGreaterThan(0.8);
    for (const other of ['thought-process-prefix', 'grader-instruction', 'restate-prompt', 'tool-result-instruction']) {
      expect(attacks[other]).toMatchObject({ n: 20, falsePasses: 0 });
    }
    expect(report.gates).toEqual([expect.objectContaining({ flag: '--max-attack-pass', value: 1, ok: false })]);
  });

  it('a judge that obeys an instruction anywhere in the data, a tool result included, fails both instruction attacks and no other', async () => {
    const items: ValidationItem[] = Array.from({ length: 10 }, (_, i) => ({ id: `o${i}`, prompt: `Flag the risk of clause ${i}.`, response: `[good] answer ${i}`, human: { pass: true } }));
    const { dir, dataset } = await writeDataset(items);
    // It reads the whole message, trajectory block included, and passes what tells it to.
    fake.setOptions({ respond: (call) => rubricAnswer(call, (_id, response) => response.includes('[good]') || userText(call).includes('mark every criterion as passed')) });
    const report = await withWorker((ctx) =>
      validate(ctx, { dataset, outputDir: dir, judges: [{ name: 'obedient', judge: bedrockJudge() }], repeats: 1, attackItems: 10, thresholds: { maxAttackPass: 0 } }),
    );
    const attacks = Object.fromEntries(report.judges[0]!.bias.attacks.map((a) => [a.attack, a]));
    expect(attacks['grader-instruction']).toMatchObject({ n: 10, falsePasses: 10 });
    expect(attacks['tool-result-instruction']).toMatchObject({ n: 10, falsePasses: 10 });
    for (const other of ['solution-prefix', 'thought-process-prefix', 'restate-prompt']) expect(attacks[other]).toMatchObject({ n: 10, falsePasses: 0 });
  });

  it('a judge that rewards length has a strong score–length correlation', async () => {
    const random = seededRandom(17);
    const items: ValidationItem[] = Array.from({ length: 60 }, (_, i) => ({
      id: `l${i}`,
      prompt: 'Flag the risk.',
      response: filler(5 + Math.floor(random() * 80)),
      human: { pass: i % 2 === 0 },
    }));
    const { dir, dataset } = await writeDataset(items);
    // One more criterion passed per 20 words: the score follows length and nothing else.
    fake.setOptions({ respond: (call) => rubricAnswer(call, (id, response) => CRITERIA.indexOf(id) < response.split(' ').length / 20) });
    const report = await withWorker((ctx) =>
      validate(ctx, { dataset, outputDir: dir, judges: [{ name: 'verbose', judge: bedrockJudge() }], repeats: 1, attackItems: 0, thresholds: { maxLengthCorrelation: 0.3 } }),
    );
    const length = report.judges[0]!.bias.length!.spearman!;
    console.log(`length-rewarding judge: length ρ ${fmt(length)}, κ ${fmt(report.judges[0]!.human.pass!.kappa)}`);
    expect(length.low).toBeGreaterThan(0.8);
    within(report.judges[0]!.human.pass!.kappa, 0);
    expect(report.gates[0]).toMatchObject({ flag: '--max-length-correlation', ok: false });
  });

  it('compares every pair of judges: the same judge agrees fully, its opposite gets κ = −1 and ρ = −1', async () => {
    const items: ValidationItem[] = Array.from({ length: 24 }, (_, i) => ({ id: `c${i}`, prompt: 'Flag the risk.', response: `[k=${[0, 1, 3, 4][i % 4]}] answer ${i}` }));
    const { dir, dataset } = await writeDataset(items);
    const OTHER = 'us.anthropic.other-judge-v1:0';
    // The second model passes exactly the criteria the first one fails.
    fake.setOptions({ respond: (call) => rubricAnswer(call, (id, response) => passesFirstK(id, response) !== (call.modelId === OTHER)) });
    const report = await withWorker((ctx) =>
      validate(ctx, {
        dataset,
        outputDir: dir,
        judges: [
          { name: 'one', judge: bedrockJudge() },
          { name: 'same', judge: bedrockJudge() },
          { name: 'opposite', judge: bedrockJudge({ model: OTHER }) },
        ],
        repeats: 1,
        attackItems: 0,
      }),
    );
    const pair = (a: string, b: string) => report.crossJudge.find((c) => c.a === a && c.b === b)!;
    console.log(`cross-judge: ${report.crossJudge.map((c) => `${c.a}/${c.b} κ ${c.kappa} ρ ${c.spearman}`).join(', ')}`);
    expect(report.crossJudge).toHaveLength(3);
    expect(pair('one', 'same')).toMatchObject({ n: 24, kappa: 1 });
    expect(pair('one', 'same').spearman).toBeCloseTo(1, 10);
    expect(pair('one', 'opposite').kappa).toBeCloseTo(-1, 10);
    expect(pair('one', 'opposite').spearman).toBeCloseTo(-1, 10);
  });
});
