import { describe, expect, it } from 'vitest';
import { readVersionRecords, VersionNotFound } from '../../src/versions/version-records';
import { diffVersions, DEFAULT_DIFF_OPTIONS } from '../../src/versions/version-diff';
import { locateFlips } from '../../src/versions/flip-texts';
import { listVersions } from '../../src/contract/reward-version';
import { arbiter } from '../cli/run-cli';
import { tempDir } from '../support/fixtures';
import { writeJudgedRun } from '../support/judged-run';

// Every expected figure below is worked out by hand from JUDGED_RUN_RESPONSES (test/support/judged-run.ts).
// Rewards (original → strict), pass = reward ≥ 0.5:
//   step 1: s1-a 1 → 1, s1-b 1 → 2/3, s1-c 1/2 → 1/3 (flip to fail), s1-d 1/2 → 0 (flip to fail),
//           s1-e 1 → fallback, s1-f 0 → 2/3 (flip to pass)
//   step 2: s2-a 1 → 1, s2-b 1/2 → 2/3, s2-c fallback → 2/3, s2-d 1/2 → excluded
// Compared (scored in both): 7 rollouts; shifts 0, −1/3, −1/6, −1/2, +2/3, 0, +1/6.

async function judgedDiff() {
  const run = await writeJudgedRun(await tempDir('arbiter-diff-'));
  const [a, b] = [await readVersionRecords(run.runDir, 'original'), await readVersionRecords(run.runDir, 'strict')];
  return { run, diff: diffVersions(a, b) };
}

describe('diffVersions on two versions judged by the real step machinery', () => {
  it('gives the overall figures computed by hand', async () => {
    const { diff } = await judgedDiff();
    const o = diff.overall;
    expect({ rollouts: o.rollouts, compared: o.compared, changed: o.changed, onlyInA: o.onlyInA, onlyInB: o.onlyInB }).toEqual({ rollouts: 10, compared: 7, changed: 5, onlyInA: 0, onlyInB: 0 });
    expect(o.meanShift).toBeCloseTo((0 - 1 / 3 - 1 / 6 - 1 / 2 + 2 / 3 + 0 + 1 / 6) / 7, 12); // −1/42
    expect(o.meanAbsShift).toBeCloseTo((1 / 3 + 1 / 6 + 1 / 2 + 2 / 3 + 1 / 6) / 7, 12); // 11/42
    // Fallback and excluded rollouts are counted apart, never compared as numbers.
    expect(o.apart).toEqual({ 'scored→fallback': 1, 'fallback→scored': 1, 'scored→excluded': 1 });
    // Sorted shifts −1/2, −1/3, −1/6, 0, 0, 1/6, 2/3; nearest rank round(p·6): p10 → 1, p50 → 3, p90 → 5.
    const q = o.shifts.quantiles!;
    expect([q.min, q.p10, q.p50, q.p90, q.max].map((x) => Number(x.toFixed(12)))).toEqual([-0.5, -0.333333333333, 0, 0.166666666667, 0.666666666667]);
    expect(o.shifts.histogram).toEqual([
      { from: -0.5, to: -0.4, count: 1 },
      { from: -0.4, to: -0.3, count: 1 },
      { from: -0.2, to: -0.1, count: 1 },
      { from: 0.1, to: 0.2, count: 1 },
      { from: 0.6, to: 0.7, count: 1 },
    ]);
    // Midranks: original [1,1,½,½,0,1,½] → [6,6,3,3,1,6,3]; strict [1,⅔,⅓,0,⅔,1,⅔] → [6.5,4,2,1,4,6.5,4];
    // deviations from the mean rank 4: Σ dA·dB = 15, Σ dA² = 24, Σ dB² = 25.5.
    expect(o.spearman).toBeCloseTo(15 / Math.sqrt(24 * 25.5), 12);
    // Pass/fail: original passes 6 of 7, strict 5; they agree on 4. p_o = 4/7, p_e = (6·5 + 1·2)/49.
    expect(o.passFail).toMatchObject({ passA: 6, passB: 5, toFail: 2, toPass: 1 });
    expect(o.passFail.kappa).toBeCloseTo((4 / 7 - 32 / 49) / (1 - 32 / 49), 12); // −4/17
  });

  it('ranks the criteria by how many verdicts turned, with κ per criterion', async () => {
    const { diff } = await judgedDiff();
    const [concise, cites, accurate] = diff.overall.criteria;
    // concise turns on s1-d ([long]: pass → fail) and s1-f ([short]: fail → pass); 4 of 7 pass in both.
    // Agreement 5/7, p_e = (4·4 + 3·3)/49 = 25/49: κ = (35 − 25)/(49 − 25) = 5/12.
    expect(concise).toMatchObject({ id: 'concise', judged: 7, toFail: 1, toPass: 1 });
    expect(concise!.passRateA).toBeCloseTo(4 / 7, 12);
    expect(concise!.passRateB).toBeCloseTo(4 / 7, 12);
    expect(concise!.kappa).toBeCloseTo(5 / 12, 12);
    // cites is in the strict rubric only: passed by s1-a, s1-f, s2-a, s2-b of the 7; no κ.
    expect(cites).toMatchObject({ id: 'cites', judged: 0, passRateA: null, toFail: 0, toPass: 0, kappa: null });
    expect(cites!.passRateB).toBeCloseTo(4 / 7, 12);
    // accurate reads the same marker in both: identical verdicts, 5 of 7 pass, κ = 1.
    expect(accurate).toMatchObject({ id: 'accurate', judged: 7, toFail: 0, toPass: 0, kappa: 1 });
  });

  it('gives each step its own figures', async () => {
    const { diff } = await judgedDiff();
    const [one, two] = diff.steps;
    expect(one).toMatchObject({ step: 1, compared: 5, changed: 4, apart: { 'scored→fallback': 1 } });
    expect(one!.meanShift).toBeCloseTo((0 - 1 / 3 - 1 / 6 - 1 / 2 + 2 / 3) / 5, 12); // −1/15
    // Step 1 pass/fail: original T,T,T,T,F and strict T,T,F,F,T agree on 2 of 5; p_e = (4·3 + 1·2)/25.
    expect(one!.passFail.kappa).toBeCloseTo((2 / 5 - 14 / 25) / (1 - 14 / 25), 12); // −4/11
    expect(two!.spearman).toBeCloseTo(1, 12); // two pairs in the same order
    expect(two).toMatchObject({ step: 2, compared: 2, changed: 1, apart: { 'fallback→scored': 1, 'scored→excluded': 1 } });
    expect(two!.meanShift).toBeCloseTo((0 + 1 / 6) / 2, 12);
    // Both of step 2's compared rollouts pass in both versions: κ is undefined (src/stats/README.md), so null.
    expect(two!.passFail).toEqual({ passA: 2, passB: 2, toFail: 0, toPass: 0, kappa: null });
    expect([diff.stepsOnlyInA, diff.stepsOnlyInB]).toEqual([[], []]);
  });

  it('lists the flips, largest shift first, with the file and line of their texts', async () => {
    const { run, diff } = await judgedDiff();
    expect(diff.flipsTotal).toBe(3);
    const located = await locateFlips(run.runDir, diff.flips, run.rolloutsDir);
    expect(located.map((f) => [f.id, f.texts?.line])).toEqual([['s1-f', 6], ['s1-d', 4], ['s1-c', 3]]);
    expect(located[0]!.texts!.file).toBe(`${run.rolloutsDir}/step-000001.jsonl`);
    expect(located[0]!.rewardB).toBeCloseTo(2 / 3, 12);
    const short = diffVersions(await readVersionRecords(run.runDir, 'original'), await readVersionRecords(run.runDir, 'strict'), { ...DEFAULT_DIFF_OPTIONS, flipLimit: 1 });
    expect([short.flips.map((f) => f.id), short.flipsTotal]).toEqual([['s1-f'], 3]);
  });

  it('names a version the run does not have', async () => {
    const { run } = await judgedDiff();
    expect(await listVersions(run.runDir)).toEqual(['strict']);
    await expect(readVersionRecords(run.runDir, 'lenient')).rejects.toBeInstanceOf(VersionNotFound);
  });
});

describe('arbiter run diff', () => {
  it('prints pure JSON with --json and a table without, and refuses an unknown version', async () => {
    const dir = await tempDir('arbiter-diff-cli-');
    const run = await writeJudgedRun(dir);
    const json = await arbiter(['run', 'diff', 'judged', 'original', 'strict', '--json', '--output-dir', `${dir}/runs`, '--rollouts', run.rolloutsDir!]);
    expect(json.code).toBe(0);
    const parsed = JSON.parse(json.stdout);
    expect([parsed.a, parsed.b, parsed.overall.changed, parsed.flips[0].texts.line]).toEqual(['original', 'strict', 5, 6]);
    const table = await arbiter(['run', 'diff', run.runDir, 'strict']);
    expect(table.stdout).toContain('all          7        5      -0.024  0.606       -0.235      2      1      3');
    const unknown = await arbiter(['run', 'diff', run.runDir, 'lenient']);
    expect([unknown.code, unknown.stderr]).toEqual([2, expect.stringContaining('has no version "lenient"')]);
  }, 60_000);
});
