import { randomUUID } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, inject, it } from 'vitest';
import YAML from 'yaml';
import { JudgeConfigSchema } from '../../src/config/judge-config';
import { OfflineHeuristicJudge } from '../../src/judges/offline-heuristic';
import { isBlank } from '../../src/judges/blank';
import { ATTACK_KINDS } from '../../src/validation/attacks';
import type { ValidationItem } from '../../src/validation/dataset';
import type { ValidationReport } from '../../src/validation/measure/report';
import { arbiter } from '../cli/run-cli';
import { writeDataset } from './harness';

// The bundled offline demo (examples/validation/contract-clauses), on a cut of its items to stay
// fast: every metric the issue names must come out as a number, for every judge.

const EXAMPLE = fileURLToPath(new URL('../../examples/validation/contract-clauses/', import.meta.url));
const CUT = 120; // ten clauses of twelve answers: labellers, gold, metrics and pairs among them

const env = () => ({ TEMPORAL_ADDRESS: inject('temporalAddress'), TEMPORAL_UI_URL: inject('temporalUiUrl') });
const NUM = String.raw`-?\d+\.\d+`;
const PCT = String.raw`\d+\.\d%`;

/** A figure, then its interval in brackets. */
const withCi = (x: string) => String.raw`${x} \[${x}, ${x}\]`;

describe('the offline judge validation demo', () => {
  it('prints every metric with numbers, and finds the offline judge\'s first-position tie-break', async () => {
    const bundled = YAML.parse(await readFile(join(EXAMPLE, 'validate.yaml'), 'utf8')) as Record<string, unknown>;
    const items = (await readFile(join(EXAMPLE, 'items.jsonl'), 'utf8')).trim().split('\n').slice(0, CUT).map((l) => JSON.parse(l) as ValidationItem);
    const { dir } = await writeDataset(items);
    const file = join(dir, 'validate.yaml');
    await writeFile(file, YAML.stringify({ ...bundled, dataset: 'items.jsonl', outputDir: 'out' }));
    const id = `offline-demo-${randomUUID()}`;

    const result = await arbiter(['judge', 'validate', file, '--id', id, '--task-queue', `q-${randomUUID()}`], env());
    expect(result.code, result.stderr).toBe(0);
    const out = result.stdout;
    expect(out).not.toContain('not measured');
    expect(out).not.toContain('n/a');
    expect(out).not.toContain('one judge given');

    const judges = bundled.judges as { name: string; judge: unknown }[];
    expect(judges.length).toBeGreaterThanOrEqual(2);
    const sections = out.split(/^== judge /m).slice(1);
    expect(sections.map((s) => s.split(':')[0])).toEqual(judges.map((j) => j.name));
    for (const s of sections) {
      expect(s).toContain('THE OFFLINE DEMO JUDGE: deterministic text rules, NOT an LLM');
      const lines: [string, string][] = [
        ['self-consistency flip rate', String.raw`\(overall pass\): flip rate ${PCT} \[${PCT}, ${PCT}\], two repeats disagree ${PCT}`],
        ['self-consistency score sd', String.raw`score sd across repeats: mean ${NUM}, max ${NUM}`],
        ['position bias: first position', String.raw`first-position pick rate ${PCT} \[${PCT}, ${PCT}\] \(0\.5 = none\), n=\d+ pairs`],
        ['position bias: flips and coverage', String.raw`flip rate under swap ${PCT} \[${PCT}, ${PCT}\] of pairs decisive in both orders; decisive share ${PCT}`],
        ['human pass/fail κ beside the base rate', String.raw`overall pass/fail \(n=\d+\): agreement ${PCT} vs human base rate ${PCT} \(judge passes ${PCT}\); κ ${withCi(NUM)}`],
        ['confusion matrix, TPR, FPR', String.raw`TP \d+ FP \d+ TN \d+ FN \d+; TPR ${PCT} FPR ${PCT}`],
        ['per-criterion κ', String.raw`criterion explains_reason \(n=\d+\): agreement ${PCT}.*κ ${withCi(NUM)}`],
        ['weighted κ', String.raw`weighted κ quadratic ${withCi(NUM)}, linear ${NUM}`],
        ['α and the human–human ceiling', String.raw`Krippendorff α pass/fail humans ${NUM} \(the ceiling\), with the judge ${NUM}`],
        ['ordinal α, human–human κ', String.raw`α ordinal score humans ${NUM}, with the judge ${NUM}; mean κ human–human ${NUM}, judge–human ${NUM}`],
        ['gold ρ, τ, offset', String.raw`gold \(n=\d+\): Spearman ρ ${withCi(NUM)}, Kendall τ-b ${withCi(NUM)}, mean offset judge−gold ${withCi(NUM)}`],
        ['production: edit_minutes', String.raw`edit_minutes \(n=\d+\): Spearman ρ ${withCi(NUM)}, Kendall τ-b ${withCi(NUM)}`],
        ['production: lawyer_accepted', String.raw`lawyer_accepted \(n=\d+\): Spearman ρ ${withCi(NUM)}, Kendall τ-b ${withCi(NUM)}`],
        ['length bias', String.raw`score vs response length: Spearman ρ ${withCi(NUM)}`],
        ...ATTACK_KINDS.map((a): [string, string] => [`attack ${a}`, String.raw`attack ${a}: false-pass \d+/\d+ = ${PCT} \[Wilson ${PCT}, ${PCT}\]`]),
      ];
      for (const [metric, pattern] of lines) expect(s, metric).toMatch(new RegExp(pattern));
    }
    for (let a = 0; a < judges.length; a++) {
      for (let b = a + 1; b < judges.length; b++) {
        expect(out).toMatch(new RegExp(String.raw`${judges[a]!.name} vs ${judges[b]!.name}: κ ${NUM}, Spearman ρ ${NUM} \(n=${CUT}\)`));
      }
    }

    // Position bias: on equal rule scores the offline judge picks the response shown first. The
    // figures must be exactly what that rule implies for these pairs, and clearly above 0.5.
    const report = JSON.parse(await readFile(join(dir, 'out', id, 'report.json'), 'utf8')) as ValidationReport;
    for (const j of judges) {
      const judge = new OfflineHeuristicJudge(JudgeConfigSchema.parse(j.judge) as ConstructorParameters<typeof OfflineHeuristicJudge>[0]);
      let firstPicks = 0;
      let decisive = 0;
      let flips = 0;
      let bothDecisive = 0;
      const pairs = items.filter((i) => i.pair !== undefined);
      for (const item of pairs) {
        const [x, y] = [item.response, item.pair!.response];
        if (isBlank(x) && isBlank(y)) continue; // a tie in both orders: no decisive verdict
        bothDecisive++;
        decisive += 2;
        const score = async (response: string) => {
          const r = await judge.judge({ id: 'x', prompt: item.prompt, response, reference: item.reference });
          return r.ok ? r.score : NaN;
        };
        const tied = !isBlank(x) && !isBlank(y) && (await score(x)) === (await score(y));
        firstPicks += tied ? 2 : 1;
        if (tied) flips++;
      }
      const p = report.judges.find((r) => r.name === j.name)!.positionBias;
      if ('notMeasured' in p) throw new Error(`${j.name}: position bias not measured`);
      expect(p.pairs).toBe(pairs.length);
      expect(flips, `${j.name}: the cut must have tied pairs`).toBeGreaterThan(0);
      expect(p.firstPositionRate!.estimate).toBeCloseTo(firstPicks / decisive, 10);
      expect(p.flipRate!.estimate).toBeCloseTo(flips / bothDecisive, 10);
      expect(p.decisiveShare).toBeCloseTo(bothDecisive / pairs.length, 10);
      // The metric finds the bias: its interval lies above no bias.
      expect(p.firstPositionRate!.low).toBeGreaterThan(0.5);
    }
    expect(report.crossJudge).toHaveLength((judges.length * (judges.length - 1)) / 2);
  });
});
