import { cohensKappa, confusionMatrix, krippendorffAlpha, weightedKappa } from '../../stats';
import { ORDINAL_CATEGORIES, type ValidationItem } from '../dataset';
import { finite, pick, withCI, type BootstrapOptions, type Interval } from './interval';

/** A judge's first-pass verdict on one item. */
export interface JudgeView {
  score: number;
  pass: boolean;
  criteria: Record<string, boolean>;
}

export interface BinaryAgreement {
  n: number;
  /** Share of items where judge and human agree. */
  agreement: number;
  /** Share the human passed: agreement means little when this is near 0 or 1. */
  baseRate: number;
  /** Share the judge passed. */
  judgePassRate: number;
  matrix: { tp: number; fp: number; tn: number; fn: number };
  /** Human pass also passed by the judge; human fail passed by the judge. */
  tpr: number | null;
  fpr: number | null;
  kappa: Interval | null;
}

export interface HumanAgreement {
  /** Overall pass/fail (judge score ≥ pass threshold) against the human's. */
  pass: BinaryAgreement | null;
  /** Per rubric criterion the human labelled too, and all of them pooled. */
  criteria: (BinaryAgreement & { id: string })[];
  pooledCriteria: BinaryAgreement | null;
  /** Ordinal 1–5 human scores against the judge score mapped to 1–5 (1 + round(4·score)). */
  ordinal: { n: number; weightedKappaQuadratic: Interval | null; weightedKappaLinear: number | null } | null;
  /** Where several people labelled the same item. */
  labellers: LabellerAgreement | null;
}

export interface LabellerAgreement {
  labellers: number;
  /** Items with at least two labels. */
  items: number;
  /** Krippendorff's α (nominal) of the people's pass/fail: the ceiling a judge can reach. */
  humanAlphaPass: number | null;
  /** The same with the judge counted as one more labeller. */
  withJudgeAlphaPass: number | null;
  /** Krippendorff's α (ordinal) of the 1–5 scores, people only and with the judge. */
  humanAlphaScore: number | null;
  withJudgeAlphaScore: number | null;
  /** Mean Cohen's κ over pairs of people (pass/fail), and of the judge with each person. */
  meanHumanHumanKappa: number | null;
  meanJudgeHumanKappa: number | null;
}

export function toOrdinal(score: number): number {
  return 1 + Math.round(4 * Math.min(1, Math.max(0, score)));
}

export function binaryAgreement(judge: boolean[], human: boolean[], bootstrap: BootstrapOptions): BinaryAgreement | null {
  if (judge.length === 0) return null;
  const m = confusionMatrix(judge, human);
  return {
    n: m.n,
    agreement: m.accuracy,
    baseRate: m.baseRate,
    judgePassRate: (m.tp + m.fp) / m.n,
    matrix: { tp: m.tp, fp: m.fp, tn: m.tn, fn: m.fn },
    tpr: finite(m.tpr),
    fpr: finite(m.fpr),
    kappa: withCI(judge.length, (idx) => cohensKappa(pick(judge, idx), pick(human, idx)), bootstrap),
  };
}

export function humanAgreement(items: readonly ValidationItem[], views: ReadonlyMap<string, JudgeView>, bootstrap: BootstrapOptions): HumanAgreement {
  const judged = items.filter((i) => views.has(i.id));
  const view = (i: ValidationItem) => views.get(i.id)!;

  const withPass = judged.filter((i) => i.human?.pass !== undefined);
  const pass = binaryAgreement(withPass.map((i) => view(i).pass), withPass.map((i) => i.human!.pass!), bootstrap);

  const judgeCriteria = new Set(judged.flatMap((i) => Object.keys(view(i).criteria)));
  const humanCriteria = new Set(judged.flatMap((i) => Object.keys(i.human?.criteria ?? {})));
  const shared = [...humanCriteria].filter((id) => judgeCriteria.has(id)).sort();
  const pooledJudge: boolean[] = [];
  const pooledHuman: boolean[] = [];
  const criteria = shared.flatMap((id) => {
    const both = judged.filter((i) => i.human?.criteria?.[id] !== undefined && view(i).criteria[id] !== undefined);
    const j = both.map((i) => view(i).criteria[id]!);
    const h = both.map((i) => i.human!.criteria![id]!);
    pooledJudge.push(...j);
    pooledHuman.push(...h);
    const agreement = binaryAgreement(j, h, bootstrap);
    return agreement ? [{ id, ...agreement }] : [];
  });

  const withScore = judged.filter((i) => i.human?.score !== undefined);
  const js = withScore.map((i) => toOrdinal(view(i).score));
  const hs = withScore.map((i) => i.human!.score!);
  const ordinal = withScore.length
    ? {
        n: withScore.length,
        weightedKappaQuadratic: withCI(withScore.length, (idx) => weightedKappa(pick(js, idx), pick(hs, idx), { categories: ORDINAL_CATEGORIES, weights: 'quadratic' }), bootstrap),
        weightedKappaLinear: finite(weightedKappa(js, hs, { categories: ORDINAL_CATEGORIES, weights: 'linear' })),
      }
    : null;

  return {
    pass,
    criteria,
    pooledCriteria: shared.length ? binaryAgreement(pooledJudge, pooledHuman, bootstrap) : null,
    ordinal,
    labellers: labellerAgreement(judged, views),
  };
}

function labellerAgreement(items: readonly ValidationItem[], views: ReadonlyMap<string, JudgeView>): LabellerAgreement | null {
  const multi = items.filter((i) => (i.labellers?.length ?? 0) >= 2);
  if (multi.length === 0) return null;
  const names = [...new Set(multi.flatMap((i) => i.labellers!.map((l) => l.labeller)))].sort();
  const label = (i: ValidationItem, name: string) => i.labellers!.find((l) => l.labeller === name);
  const passRows = names.map((name) => multi.map((i) => boolOrNull(label(i, name)?.pass)));
  const scoreRows = names.map((name) => multi.map((i) => label(i, name)?.score ?? null));
  const judgePass = multi.map((i) => (views.get(i.id)!.pass ? 1 : 0));
  const judgeScore = multi.map((i) => toOrdinal(views.get(i.id)!.score));
  const alpha = (rows: (number | null)[][], level: 'nominal' | 'ordinal') =>
    rows.some((r) => r.some((v) => v !== null)) ? safe(() => krippendorffAlpha(rows, level)) : null;

  const kappas: number[] = [];
  for (let a = 0; a < names.length; a++) {
    for (let b = a + 1; b < names.length; b++) kappas.push(...pairKappa(passRows[a]!, passRows[b]!));
  }
  const judgeKappas = passRows.flatMap((row) => pairKappa(row, judgePass));
  const mean = (xs: number[]) => (xs.length ? xs.reduce((s, x) => s + x, 0) / xs.length : null);
  return {
    labellers: names.length,
    items: multi.length,
    humanAlphaPass: alpha(passRows, 'nominal'),
    withJudgeAlphaPass: alpha([...passRows, judgePass], 'nominal'),
    humanAlphaScore: alpha(scoreRows, 'ordinal'),
    withJudgeAlphaScore: alpha([...scoreRows, judgeScore], 'ordinal'),
    meanHumanHumanKappa: mean(kappas),
    meanJudgeHumanKappa: mean(judgeKappas),
  };
}

function boolOrNull(b: boolean | undefined): number | null {
  return b === undefined ? null : b ? 1 : 0;
}

/** κ over the items both rows labelled, when there are a few. */
function pairKappa(a: (number | null)[], b: (number | null)[]): number[] {
  const x: number[] = [];
  const y: number[] = [];
  a.forEach((v, i) => {
    const w = b[i];
    if (v !== null && w !== null && w !== undefined) {
      x.push(v);
      y.push(w);
    }
  });
  if (x.length < 5) return [];
  const k = cohensKappa(x, y);
  return Number.isFinite(k) ? [k] : [];
}

function safe(f: () => number): number | null {
  try {
    return finite(f());
  } catch {
    return null;
  }
}
