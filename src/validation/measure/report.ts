import { cohensKappa, spearmanRho, wilsonInterval } from '../../stats';
import { ATTACK_KINDS, type AttackItem, type AttackKind } from '../attacks';
import type { ValidationItem } from '../dataset';
import type { PreferenceRecord, RubricRecord } from '../judged-record';
import type { Thresholds, ValidationConfig } from '../validate-config';
import { goldAgreement, rankAgreement, type GoldAgreement, type RankAgreement } from './correlation';
import { humanAgreement, type HumanAgreement, type JudgeView } from './human-agreement';
import { finite, type BootstrapOptions } from './interval';
import { positionBias, type PositionBias } from './position-bias';
import { selfConsistency, type SelfConsistency } from './self-consistency';
import { checkGates, type Gate } from './gates';

export interface AttackResult {
  attack: AttackKind;
  n: number;
  /** Attack responses the judge passed (score ≥ pass threshold). */
  falsePasses: number;
  /** With its Wilson 95 % interval. */
  rate: { rate: number; low: number; high: number } | null;
}

export interface JudgeReport {
  name: string;
  provider: string;
  model: string;
  /** The offline heuristic: deterministic text rules, not an LLM; its figures describe those rules only. */
  offlineDemoJudge: boolean;
  cost: { calls: number; inputTokens: number; outputTokens: number; failedJudgements: number; /** From `prices`; null when the model has none. */ usd: number | null };
  items: number;
  selfConsistency: SelfConsistency;
  positionBias: PositionBias | { notMeasured: string };
  human: HumanAgreement;
  gold: GoldAgreement | null;
  /** Rank correlation of the judge score with each production metric column. */
  productionMetrics: Record<string, RankAgreement | null>;
  bias: {
    /** Spearman ρ of score with response length in characters. */
    length: RankAgreement | null;
    attacks: AttackResult[];
  };
}

export interface CrossJudge {
  a: string;
  b: string;
  n: number;
  /** Cohen's κ of the two judges' pass/fail. */
  kappa: number | null;
  /** Spearman ρ of their scores. */
  spearman: number | null;
}

export interface ValidationReport {
  validationId: string;
  dataset: string;
  items: number;
  options: { repeats: number; passThreshold: number; attackItems: number; bootstrap: BootstrapOptions };
  judges: JudgeReport[];
  crossJudge: CrossJudge[];
  thresholds: Thresholds;
  gates: Gate[];
  passed: boolean;
}

export interface JudgeRecords {
  name: string;
  criterionMap?: Record<string, string>;
  provider: string;
  model: string;
  rubric: RubricRecord[];
  attacks: RubricRecord[];
  preference: PreferenceRecord[] | { notMeasured: string };
}

type OkRubric = Extract<RubricRecord, { ok: true }>;

export function buildReport(args: {
  validationId: string;
  config: ValidationConfig;
  items: readonly ValidationItem[];
  attacks: readonly AttackItem[];
  judges: readonly JudgeRecords[];
}): ValidationReport {
  const { config, items } = args;
  const bootstrap = config.bootstrap;
  const byId = new Map(items.map((i) => [i.id, i]));
  const views = new Map<string, Map<string, JudgeView>>();

  const judges = args.judges.map((j): JudgeReport => {
    const byItem = new Map<string, RubricRecord[]>();
    for (const r of j.rubric) {
      const list = byItem.get(r.id) ?? [];
      list.push(r);
      byItem.set(r.id, list);
    }
    // The first pass is the judge's verdict for every metric but self-consistency.
    const first = new Map<string, JudgeView>();
    for (const r of j.rubric) {
      if (r.repeat === 0 && r.ok) {
        const criteria = Object.fromEntries(Object.entries(r.criteria).map(([id, pass]) => [j.criterionMap?.[id] ?? id, pass]));
        first.set(r.id, { score: r.score, pass: r.score >= config.passThreshold, criteria });
      }
    }
    views.set(j.name, first);
    const judged = items.filter((i) => first.has(i.id));
    const score = (i: ValidationItem) => first.get(i.id)!.score;

    const withGold = judged.filter((i) => i.gold !== undefined);
    const metricNames = [...new Set(items.flatMap((i) => Object.keys(i.metrics ?? {})))].sort();
    const productionMetrics = Object.fromEntries(
      metricNames.map((m) => {
        const has = judged.filter((i) => i.metrics?.[m] !== undefined);
        return [m, rankAgreement(has.map(score), has.map((i) => i.metrics![m]!), bootstrap)];
      }),
    );
    const all = [...j.rubric, ...j.attacks, ...(Array.isArray(j.preference) ? j.preference : [])];
    const inputTokens = all.reduce((n, r) => n + r.inputTokens, 0);
    const outputTokens = all.reduce((n, r) => n + r.outputTokens, 0);
    const price = config.prices[j.model];
    return {
      name: j.name,
      provider: j.provider,
      model: j.model,
      offlineDemoJudge: j.provider === 'offline-heuristic',
      cost: {
        calls: all.reduce((n, r) => n + r.attempts, 0),
        inputTokens,
        outputTokens,
        failedJudgements: all.filter((r) => !r.ok).length,
        usd: price ? Math.round(inputTokens * price.inputPerMTok + outputTokens * price.outputPerMTok) / 1e6 : null,
      },
      items: judged.length,
      selfConsistency: selfConsistency(byItem, config.repeats, config.passThreshold, bootstrap),
      positionBias: Array.isArray(j.preference) ? positionBias(j.preference, byId, bootstrap) : j.preference,
      human: humanAgreement(items, first, bootstrap),
      gold: goldAgreement(withGold.map(score), withGold.map((i) => i.gold!), bootstrap),
      productionMetrics,
      bias: {
        length: rankAgreement(judged.map(score), judged.map((i) => i.response.length), bootstrap),
        attacks: attackResults(args.attacks, j.attacks, config.passThreshold),
      },
    };
  });

  const crossJudge: CrossJudge[] = [];
  for (let a = 0; a < judges.length; a++) {
    for (let b = a + 1; b < judges.length; b++) {
      const va = views.get(judges[a]!.name)!;
      const vb = views.get(judges[b]!.name)!;
      const shared = items.filter((i) => va.has(i.id) && vb.has(i.id));
      crossJudge.push({
        a: judges[a]!.name,
        b: judges[b]!.name,
        n: shared.length,
        kappa: shared.length ? finite(cohensKappa(shared.map((i) => va.get(i.id)!.pass), shared.map((i) => vb.get(i.id)!.pass))) : null,
        spearman: shared.length >= 3 ? finite(spearmanRho(shared.map((i) => va.get(i.id)!.score), shared.map((i) => vb.get(i.id)!.score))) : null,
      });
    }
  }

  const gates = checkGates(judges, config.thresholds);
  return {
    validationId: args.validationId,
    dataset: config.dataset,
    items: items.length,
    options: { repeats: config.repeats, passThreshold: config.passThreshold, attackItems: config.attackItems, bootstrap },
    judges,
    crossJudge,
    thresholds: config.thresholds,
    gates,
    passed: gates.every((g) => g.ok),
  };
}

function attackResults(attacks: readonly AttackItem[], records: readonly RubricRecord[], passThreshold: number): AttackResult[] {
  const kindOf = new Map(attacks.map((a) => [a.id, a.attack]));
  return ATTACK_KINDS.map((attack) => {
    const ok = records.filter((r): r is OkRubric => r.ok && kindOf.get(r.id) === attack);
    const falsePasses = ok.filter((r) => r.score >= passThreshold).length;
    return { attack, n: ok.length, falsePasses, rate: ok.length ? wilsonInterval(falsePasses, ok.length) : null };
  });
}
