import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RewardRecord } from '../../src/contract/reward-record';
import { reportCharts } from '../../src/report/charts';
import { headline } from '../../src/report/header-words';
import { LENGTH_POINTS_BUDGET, readReportData, stepRow, type ReportData, type RunHeader } from '../../src/report/report-data';
import { renderSvg } from '../../src/report/render-svg';
import { agreementByStep } from '../../src/report/review-agreement';
import { writeReport } from '../../src/report/write-report';
import { quantile, readStepFacts } from '../../src/report/step-facts';
import { StepStats } from '../../src/steps/step-summary';
import { tempDir } from '../support/fixtures';
import { writeSyntheticRun } from '../support/synthetic-run';

function record(i: number, reward: number | null, extra: Partial<RewardRecord> = {}): RewardRecord {
  return {
    id: `r${i}`,
    step: 1,
    reward,
    status: reward === null ? 'excluded' : 'scored',
    breakdown: {},
    judge: { provider: 'offline-heuristic', model: 'rules', rationale: '', attempts: 1, inputTokens: 0, outputTokens: 0, latencyMs: 1 },
    flags: [],
    ...extra,
  };
}

async function writeRecords(records: RewardRecord[]): Promise<string> {
  const dir = await tempDir('arbiter-report-');
  const file = join(dir, 'r.jsonl');
  await writeFile(file, records.map((r) => JSON.stringify(r) + '\n').join(''));
  return file;
}

const header: RunHeader = { runId: 'r', status: 'completed', statusSource: 'a test' };

describe('step facts from a rewards file', () => {
  it('gives p10/p50/p90 of the rewards, leaving excluded rollouts out', async () => {
    // 0.0, 0.1, ..., 1.0 shuffled, plus two excluded ones that must not count.
    const rewards = [0.7, 0.2, 1, 0, 0.5, 0.9, 0.3, 0.1, 0.6, 0.4, 0.8];
    const file = await writeRecords([...rewards.map((r, i) => record(i, r)), record(20, null), record(21, null)]);
    const facts = await readStepFacts(file, 1, 100);
    expect(facts.reward).toEqual({ p10: 0.1, p50: 0.5, p90: 0.9 });
    expect(facts.records).toBe(13);
  });

  it('computes the same percentiles as the step summary does', async () => {
    const records = Array.from({ length: 37 }, (_, i) => record(i, ((i * 7919) % 101) / 100));
    const stats = new StepStats();
    for (const r of records) stats.add(r);
    const summary = stats.summary(1, 0);
    const facts = await readStepFacts(await writeRecords(records), 1, 100);
    expect(facts.reward).toEqual({ p10: summary.reward.p10, p50: summary.reward.p50, p90: summary.reward.p90 });
    expect(quantile([], 0.5)).toBe(0);
  });

  it('counts per-criterion passes and samples length points within the cap', async () => {
    const records = Array.from({ length: 50 }, (_, i) =>
      record(i, i / 50, {
        responseChars: 100 + i,
        judge: {
          ...record(0, 0).judge,
          criteria: [
            { id: 'accurate', pass: i < 40, evidence: '' },
            { id: 'brief', pass: i % 2 === 0, evidence: '' },
          ],
        },
      }),
    );
    const facts = await readStepFacts(await writeRecords(records), 1, 20);
    expect(facts.criteria).toEqual({ accurate: { passed: 40, judged: 50 }, brief: { passed: 25, judged: 50 } });
    expect(facts.withLength).toBe(50);
    expect(facts.lengthPoints).toHaveLength(20);
    // A sample, not the first 20: some point past the 20th line made it in.
    expect(facts.lengthPoints.some((p) => p.chars >= 120)).toBe(true);
    // The same file samples the same points every time.
    expect((await readStepFacts(await writeRecords(records), 1, 20)).lengthPoints).toEqual(facts.lengthPoints);
  });

  it('skips lines that are not records and says how many', async () => {
    const file = await writeRecords([record(1, 0.5)]);
    await writeFile(file, `${JSON.stringify(record(1, 0.5))}\n{"torn": \n`);
    const facts = await readStepFacts(file, 1, 10);
    expect(facts).toMatchObject({ records: 1, unreadable: 1, reward: { p50: 0.5 } });
  });
});

describe('report data of a run folder', () => {
  it('takes p10 from the rewards file when an old manifest lacks it, and has no criteria or lengths to draw', async () => {
    const dir = await tempDir('arbiter-report-');
    const written = await writeSyntheticRun(dir, { steps: 3, perStep: 21, legacy: true });
    const data = await readReportData(dir, header);
    expect(data.steps.map((s) => s.step)).toEqual([1, 2, 3]);
    for (const [i, row] of data.steps.entries()) {
      const stats = new StepStats();
      for (const r of written[i]!) stats.add(r);
      expect(row.summary.reward.p10).toBeUndefined();
      expect(row.reward.p10).toBe(stats.summary(i + 1, 0).reward.p10);
    }
    const charts = Object.fromEntries(reportCharts(data).map((c) => [c.id, c]));
    expect(charts.criteria!.spec).toBeUndefined();
    expect(charts.length!.spec).toBeUndefined();
    expect(charts.agreement!.spec).toBeUndefined();
    expect(charts.reward!.spec).toBeDefined();
    // The judge comes from the records when the header has none.
    expect(data.header.judgeModel).toBe('bedrock:anthropic.claude-test (from the rewards files)');
  });

  it('keeps the length sample of a large run within its budget', async () => {
    const dir = await tempDir('arbiter-report-');
    await writeSyntheticRun(dir, { steps: 5, perStep: 1200 });
    const data = await readReportData(dir, header);
    expect(data.lengthRecords).toBeGreaterThan(5000);
    expect(data.lengthPoints).toHaveLength(LENGTH_POINTS_BUDGET);
    expect(new Set(data.lengthPoints.map((p) => p.step))).toEqual(new Set([1, 2, 3, 4, 5]));
  });

  it('keeps to the budget when a run has more steps than the budget has points', async () => {
    const dir = await tempDir('arbiter-report-');
    await writeSyntheticRun(dir, { steps: LENGTH_POINTS_BUDGET + 50, perStep: 1 });
    const data = await readReportData(dir, header);
    expect(data.lengthPoints).toHaveLength(LENGTH_POINTS_BUDGET);
    // Evenly thinned: the last steps are still there.
    expect(Math.max(...data.lengthPoints.map((p) => p.step))).toBeGreaterThan(LENGTH_POINTS_BUDGET);
  });

  it('notes a step whose rewards file is missing instead of failing', async () => {
    const dir = await tempDir('arbiter-report-');
    await writeSyntheticRun(dir, { steps: 2, perStep: 5 });
    await mkdir(join(dir, 'steps'), { recursive: true });
    const { rm } = await import('node:fs/promises');
    await rm(join(dir, 'steps', '000002.rewards.jsonl'));
    const data = await readReportData(dir, header);
    expect(data.steps).toHaveLength(2);
    expect(data.notes).toEqual(['step 2: its rewards file steps/000002.rewards.jsonl is missing; only its summary is shown']);
  });
});

/** A run's data straight from records: three steps of four rollouts, scored without a fallback or a quarantined line. */
function cleanRun(judge: Partial<RewardRecord['judge']>, price?: { inputPerMTok: number; outputPerMTok: number }): ReportData {
  const steps = [1, 2, 3].map((step) => {
    const stats = new StepStats();
    for (let i = 0; i < 4; i++) stats.add(record(i, 0.25 * i, { step, judge: { ...record(0, 0).judge, ...judge } }));
    return stepRow(stats.summary(step, 0, price), undefined);
  });
  const provider = judge.provider ?? 'offline-heuristic';
  return { header: { ...header, judgeProvider: provider }, runDir: '/nowhere', steps, lengthPoints: [], lengthRecords: 0, humanAgreement: [], notes: [], end: undefined };
}

describe('charts of a series that is 0 throughout', () => {
  it('say in words why there is nothing to draw: no fallbacks, no quarantined lines, no tokens and no cost with the offline judge', () => {
    const charts = Object.fromEntries(reportCharts(cleanRun({})).map((c) => [c.id, c]));
    expect(charts.reward!.spec).toBeDefined();
    const absent = Object.fromEntries(['fallback', 'quarantine', 'tokens', 'cost'].map((id) => [id, { spec: charts[id]!.spec, absent: charts[id]!.absent }]));
    expect(absent).toEqual({
      fallback: { spec: undefined, absent: 'No fallbacks in this run: every rollout was judged.' },
      quarantine: { spec: undefined, absent: "No quarantined lines: every line of the trainer's step files was a rollout." },
      tokens: { spec: undefined, absent: 'No tokens: the offline heuristic judge (not an LLM) makes no model calls.' },
      cost: { spec: undefined, absent: 'No cost: the offline heuristic judge (not an LLM) makes no model calls.' },
    });
  });

  it('draws the tokens of an LLM judge without a price, and says why its cost is not drawn', () => {
    const llm = { provider: 'bedrock', model: 'anthropic.claude-test', inputTokens: 900, outputTokens: 120 };
    const unpriced = Object.fromEntries(reportCharts(cleanRun(llm)).map((c) => [c.id, c]));
    expect(unpriced.tokens!.spec).toBeDefined();
    expect(unpriced.cost!.spec).toBeUndefined();
    expect(unpriced.cost!.absent).toBe("No cost: the model has no price in the run's config nor in Arbiter's list prices; add one under `prices` to estimate it.");
    const priced = Object.fromEntries(reportCharts(cleanRun(llm, { inputPerMTok: 3, outputPerMTok: 15 })).map((c) => [c.id, c]));
    expect(priced.cost!.spec).toBeDefined();
    // An LLM judge whose every judgement came from the judge cache was billed nothing.
    const cached = Object.fromEntries(reportCharts(cleanRun({ ...llm, cached: true })).map((c) => [c.id, c]));
    expect(cached.tokens!.absent).toBe('No tokens: no judge call was billed any (judgements taken from the judge cache cost none).');
  });

  it("gives the reward chart's mean and median lines a legend entry each", async () => {
    const reward = reportCharts(cleanRun({})).find((c) => c.id === 'reward')!;
    const svg = await renderSvg(reward.spec!);
    const legend = [...svg.matchAll(/role-legend-label"[^>]*><text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
    expect(legend).toEqual(['mean', 'median (p50)']);
  });
});

describe('the page', () => {
  it('shows text from the run (reasons, criterion ids) as text, never as markup', async () => {
    const dir = await tempDir('arbiter-report-');
    await writeSyntheticRun(dir, { steps: 2, perStep: 6 });
    const file = join(dir, 'steps', '000001.rewards.jsonl');
    await writeFile(file, (await readFile(file, 'utf8')).replaceAll('"accurate"', JSON.stringify('<img src=x onerror=alert(1)>')));
    const out = join(dir, 'report.html');
    await writeReport({ runDir: dir, out, header: { ...header, status: 'paused', reason: '<script>alert("x")</script> & more' } });
    const html = await readFile(out, 'utf8');
    expect(html).not.toMatch(/<script|<img/i);
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; more');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
  });
});

describe('agreement, correlation and the headline', () => {
  it('computes judge-human agreement per step as the run does', () => {
    const perStep = agreementByStep([
      { step: 2, judgePass: true, humanPass: true },
      { step: 1, judgePass: true, humanPass: false },
      { step: 2, judgePass: false, humanPass: false },
      { step: 2, judgePass: true, humanPass: false },
      { step: 1, judgePass: true, humanPass: true },
    ]);
    expect(perStep.map(({ step, reviews, accuracy }) => ({ step, reviews, accuracy }))).toEqual([
      { step: 1, reviews: 2, accuracy: 0.5 },
      { step: 2, reviews: 3, accuracy: 2 / 3 },
    ]);
    // Step 1: the judge always said pass, so chance agreement is the whole story: kappa 0.
    expect(perStep[0]!.kappa).toBe(0);
    expect(perStep[1]!.kappa).toBeCloseTo(0.4, 6);
  });


  it('states the status, steps and pause reason in words', async () => {
    const dir = await tempDir('arbiter-report-');
    await writeSyntheticRun(dir, { steps: 2, perStep: 4 });
    const base = await readReportData(dir, header);
    const say = (h: Partial<RunHeader>) => headline({ ...base, header: { ...header, runId: 'legal-7', totalSteps: 10, ...h } });
    expect(say({ status: 'paused', reason: 'fallback rate 40% over the limit 20%' })).toBe(
      'Run legal-7 is paused after 2 of 10 steps scored, because fallback rate 40% over the limit 20%.',
    );
    expect(say({ status: 'running', currentStep: 3 })).toBe('Run legal-7 is running, scoring step 3; 2 of 10 steps scored.');
    expect(say({ status: 'cancelled', reason: 'enough' })).toBe('Run legal-7 was cancelled after 2 of 10 steps scored: enough.');
    expect(say({ status: 'completed', totalSteps: 2 })).toBe('Run legal-7 completed: 2 of 2 steps scored.');
  });
});
