import type { Rollout } from '../config/rollout';
import type { CriterionVerdict, Judge, Judgement } from './judge';
import { blankPairOutcome, combineOrders, type PairWinner, type PreferenceOutcome } from './preference';

/**
 * The offline heuristic judge: deterministic text rules, NOT an LLM.
 *
 * It exists so that demos and tests run without credentials or network. Its
 * scores say something about surface overlap, nothing about quality; every
 * reward it produces is labelled with provider `offline-heuristic`.
 */
export const OFFLINE_HEURISTIC_PROVIDER = 'offline-heuristic';
export const OFFLINE_HEURISTIC_MODEL = 'offline-heuristic-v1 (not an LLM)';

/** Token F1 with the reference that `matches_reference` needs unless configured otherwise. */
export const DEFAULT_MIN_REFERENCE_F1 = 0.3;

/** The rules' ids, in the order they run. */
export const OFFLINE_HEURISTIC_RULES = ['non_empty', 'addresses_prompt', 'matches_reference'] as const;
export type OfflineHeuristicRule = (typeof OFFLINE_HEURISTIC_RULES)[number];

export interface OfflineHeuristicSettings {
  /** See `minReferenceF1` in the judge config: higher is stricter. */
  minReferenceF1?: number;
  /** See `weights` in the judge config: a rule's share of the score. */
  weights?: Partial<Record<OfflineHeuristicRule, number>>;
}

const DEFAULT_WEIGHTS: Record<OfflineHeuristicRule, number> = { non_empty: 1, addresses_prompt: 1, matches_reference: 2 };

/** The model name a judge with these settings reports: a tuned variant says how it differs. */
export function offlineHeuristicModel(settings: OfflineHeuristicSettings = {}): string {
  const changes: string[] = [];
  for (const id of OFFLINE_HEURISTIC_RULES) {
    const w = settings.weights?.[id];
    if (w !== undefined && w !== DEFAULT_WEIGHTS[id]) changes.push(`${id} weight ${w}`);
  }
  const f1 = settings.minReferenceF1;
  if (f1 !== undefined && f1 !== DEFAULT_MIN_REFERENCE_F1) changes.push(`reference F1 >= ${f1}`);
  return changes.length === 0 ? OFFLINE_HEURISTIC_MODEL : `offline-heuristic-v1 (not an LLM; ${changes.join(', ')})`;
}

const STOPWORDS = new Set(
  'a an and are as at be by for from has have if in into is it its of on or that the their this to was were will with which who would should shall may must not no'.split(
    ' ',
  ),
);

function contentWords(text: string): string[] {
  return (text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []).filter((w) => w.length > 2 && !STOPWORDS.has(w));
}

/** Token-set F1: symmetric, bounded, and insensitive to repetition. */
function overlapF1(a: string[], b: string[]): number {
  const setA = new Set(a);
  const setB = new Set(b);
  if (setA.size === 0 || setB.size === 0) return 0;
  let common = 0;
  for (const w of setA) if (setB.has(w)) common++;
  if (common === 0) return 0;
  const precision = common / setA.size;
  const recall = common / setB.size;
  return (2 * precision * recall) / (precision + recall);
}

interface Rule {
  id: OfflineHeuristicRule;
  check(rollout: Rollout, response: string[], minReferenceF1: number): { pass: boolean; evidence: string } | undefined;
}

const RULES: Rule[] = [
  {
    id: 'non_empty',
    check: (_r, words) => ({ pass: words.length >= 3, evidence: `${words.length} content words` }),
  },
  {
    id: 'addresses_prompt',
    check: (r, words) => {
      const promptWords = new Set(contentWords(r.prompt));
      if (promptWords.size === 0) return undefined;
      const used = new Set(words.filter((w) => promptWords.has(w))).size;
      const share = used / promptWords.size;
      return { pass: share >= 0.1, evidence: `uses ${(share * 100).toFixed(0)}% of the prompt's content words` };
    },
  },
  {
    id: 'matches_reference',
    check: (r, words, minF1) => {
      if (r.reference === undefined) return undefined;
      const f1 = overlapF1(words, contentWords(r.reference));
      return { pass: f1 >= minF1, evidence: `token F1 with the reference ${f1.toFixed(2)}${minF1 === DEFAULT_MIN_REFERENCE_F1 ? '' : ` (needs ${minF1})`}` };
    },
  },
];

/**
 * Rubric mode scores one response by its rules. Preference mode (`compare`) scores both
 * responses the same way and prefers the higher score, in each of the two orders, as LLM
 * preference judges are asked. On equal scores there is nothing to go on, and the heuristic
 * picks the response SHOWN FIRST: a position bias by construction, the kind an LLM judge shows
 * when unsure. `arbiter judge validate` measures it (first-position pick rate above 0.5, a flip
 * under swap for every tied pair); in a run, the two orders then name opposite winners, so
 * the pair is scored a tie and flagged `inconsistent`, as for an LLM judge that follows position.
 */
export class OfflineHeuristicJudge implements Judge {
  readonly provider = OFFLINE_HEURISTIC_PROVIDER;
  readonly model: string;
  private readonly minReferenceF1: number;
  private readonly weights: Record<OfflineHeuristicRule, number>;

  constructor(settings: OfflineHeuristicSettings = {}) {
    this.minReferenceF1 = settings.minReferenceF1 ?? DEFAULT_MIN_REFERENCE_F1;
    this.weights = { ...DEFAULT_WEIGHTS };
    for (const id of OFFLINE_HEURISTIC_RULES) this.weights[id] = settings.weights?.[id] ?? DEFAULT_WEIGHTS[id];
    this.model = offlineHeuristicModel(settings);
  }

  async judge(rollout: Rollout): Promise<Judgement> {
    const started = performance.now();
    const { score, criteria } = this.score(rollout);
    return {
      ok: true,
      score,
      criteria,
      rationale: `offline heuristic (not an LLM): ${criteria.filter((c) => c.pass).length}/${criteria.length} rules passed`,
      usage: { inputTokens: 0, outputTokens: 0 },
      latencyMs: performance.now() - started,
      attempts: 1,
    };
  }

  /** Preference mode: `a` and `b` answer the same prompt. Deterministic, both orders. */
  async compare(a: Rollout, b: Rollout): Promise<PreferenceOutcome> {
    const started = performance.now();
    const blank = blankPairOutcome(a, b);
    if (blank) return { ...blank, rationale: `offline heuristic (not an LLM): ${blank.rationale}` };
    const scoreA = this.score(a).score;
    const scoreB = this.score(b).score;
    // One order's verdict: the higher score, or the response shown first when they are equal.
    const pick = (first: PairWinner, second: PairWinner, firstScore: number, secondScore: number): PairWinner =>
      secondScore > firstScore ? second : first;
    const votes: [PairWinner, PairWinner] = [pick('a', 'b', scoreA, scoreB), pick('b', 'a', scoreB, scoreA)];
    const scores = `${a.id} ${scoreA.toFixed(2)}, ${b.id} ${scoreB.toFixed(2)}`;
    return {
      a: a.id,
      b: b.id,
      ok: true,
      ...combineOrders(votes),
      votes,
      rationale:
        scoreA === scoreB
          ? `offline heuristic (not an LLM): equal rule scores (${scores}); it picks whichever is shown first, so the two orders disagree`
          : `offline heuristic (not an LLM): higher rule score wins (${scores})`,
      usage: { inputTokens: 0, outputTokens: 0 },
      latencyMs: performance.now() - started,
      // One verdict per order, as an LLM preference judge makes.
      attempts: 2,
    };
  }

  private score(rollout: Rollout): { score: number; criteria: CriterionVerdict[] } {
    const words = contentWords(rollout.response);
    const criteria: CriterionVerdict[] = [];
    let passed = 0;
    let total = 0;
    for (const rule of RULES) {
      const verdict = rule.check(rollout, words, this.minReferenceF1);
      if (verdict === undefined) continue;
      criteria.push({ id: rule.id, ...verdict });
      const weight = this.weights[rule.id];
      total += weight;
      if (verdict.pass) passed += weight;
    }
    return { score: total === 0 ? 0 : passed / total, criteria };
  }
}
