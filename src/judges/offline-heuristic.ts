import type { Rollout } from '../config/rollout';
import type { CriterionVerdict, Judge, Judgement } from './judge';

/**
 * The offline heuristic judge: deterministic text rules, NOT an LLM.
 *
 * It exists so that demos and tests run without credentials or network. Its
 * scores say something about surface overlap, nothing about quality; every
 * reward it produces is labelled with provider `offline-heuristic`.
 */
export const OFFLINE_HEURISTIC_PROVIDER = 'offline-heuristic';
export const OFFLINE_HEURISTIC_MODEL = 'offline-heuristic-v1 (not an LLM)';

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
  id: string;
  weight: number;
  check(rollout: Rollout, response: string[]): { pass: boolean; evidence: string } | undefined;
}

const RULES: Rule[] = [
  {
    id: 'non_empty',
    weight: 1,
    check: (_r, words) => ({ pass: words.length >= 3, evidence: `${words.length} content words` }),
  },
  {
    id: 'addresses_prompt',
    weight: 1,
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
    weight: 2,
    check: (r, words) => {
      if (r.reference === undefined) return undefined;
      const f1 = overlapF1(words, contentWords(r.reference));
      return { pass: f1 >= 0.3, evidence: `token F1 with the reference ${f1.toFixed(2)}` };
    },
  },
];

export class OfflineHeuristicJudge implements Judge {
  readonly provider = OFFLINE_HEURISTIC_PROVIDER;
  readonly model = OFFLINE_HEURISTIC_MODEL;

  async judge(rollout: Rollout): Promise<Judgement> {
    const started = performance.now();
    const words = contentWords(rollout.response);
    const criteria: CriterionVerdict[] = [];
    let passed = 0;
    let total = 0;
    for (const rule of RULES) {
      const verdict = rule.check(rollout, words);
      if (verdict === undefined) continue;
      criteria.push({ id: rule.id, ...verdict });
      total += rule.weight;
      if (verdict.pass) passed += rule.weight;
    }
    const score = total === 0 ? 0 : passed / total;
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
}
