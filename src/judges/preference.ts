import type { JudgeFailureReason } from '../call-policy/judge-failure-reason';
import { hashSeed, seededRandom } from '../util/seeded-random';
import { addUsage, type JudgeCost } from './judge';
import { isBlank } from './blank';

// Pure and deterministic: a retried chunk activity plans the same pairs as its first attempt.

/** Result of one side-by-side comparison, relative to the pair: `a` and `b` are rollout ids. */
export type PairWinner = 'a' | 'b' | 'tie';

/** Its cost counts both orders; `attempts` is 0 when decided without the model. */
export type PreferenceOutcome = { a: string; b: string } & JudgeCost &
  (
    | {
        ok: true;
        winner: PairWinner;
        /** The two orders named opposite winners: position bias, not preference. Scored as a tie. */
        inconsistent: boolean;
        /** The verdict from each order: [a shown first, b shown first], mapped back to a/b. */
        votes: [PairWinner, PairWinner];
        rationale: string;
      }
    | { ok: false; reason: JudgeFailureReason; message: string; retryable?: boolean }
  );

/**
 * The pair's verdict from its two orders: the same winner twice → that winner; opposite winners →
 * tie, flagged `inconsistent` (the judge followed position, not content); a winner once and a tie
 * once → tie, not flagged (a preference that does not survive the swap is not kept).
 */
export function combineOrders(votes: [PairWinner, PairWinner]): { winner: PairWinner; inconsistent: boolean } {
  const agree = votes[0] === votes[1];
  return { winner: agree ? votes[0] : 'tie', inconsistent: !agree && votes[0] !== 'tie' && votes[1] !== 'tie' };
}

/**
 * Pairs with an empty response are decided without the judge, in every preference judge: both
 * empty → tie; one empty → the other wins. Undefined when both responses have text.
 */
export function blankPairOutcome(a: { id: string; response: string }, b: { id: string; response: string }): Extract<PreferenceOutcome, { ok: true }> | undefined {
  const emptyA = isBlank(a.response);
  const emptyB = isBlank(b.response);
  if (!emptyA && !emptyB) return undefined;
  const winner: PairWinner = emptyA && emptyB ? 'tie' : emptyA ? 'b' : 'a';
  const rationale =
    winner === 'tie'
      ? 'Both responses are empty (decided without calling the judge model).'
      : `Response ${emptyA ? a.id : b.id} is empty, so the other wins (decided without calling the judge model).`;
  return {
    a: a.id,
    b: b.id,
    ok: true,
    winner,
    inconsistent: false,
    votes: [winner, winner],
    rationale,
    usage: { inputTokens: 0, outputTokens: 0 },
    latencyMs: 0,
    attempts: 0,
  };
}

export interface PlanPairsOptions {
  /** Upper bound on comparisons for the group; each costs two judge calls (both orders). */
  maxPairsPerGroup: number;
  /** Same seed and ids → same pairs, so a retried activity agrees with its first attempt. */
  seed: number | string;
}

function gcd(x: number, y: number): number {
  return y === 0 ? x : gcd(y, x % y);
}

/**
 * The pairs {i, i+k mod n} of one offset, ordered so that any prefix keeps degrees as even as
 * possible. For 2k = n they form a perfect matching. Otherwise they form gcd(n,k) cycles;
 * every other edge of each cycle comes first (a matching), then the rest, starting with the
 * closing edge of odd cycles (its vertex is the one the matching left out).
 */
function offsetPairs(n: number, k: number): [number, number][] {
  if (2 * k === n) return Array.from({ length: k }, (_, i) => [i, i + k] as [number, number]);
  const cycles = gcd(n, k);
  const length = n / cycles;
  const first: [number, number][] = [];
  const closing: [number, number][] = [];
  const rest: [number, number][] = [];
  for (let c = 0; c < cycles; c++) {
    for (let t = 0; t < length; t++) {
      const edge: [number, number] = [(c + t * k) % n, (c + (t + 1) * k) % n];
      if (length % 2 === 1 && t === length - 1) closing.push(edge);
      else if (t % 2 === 0) first.push(edge);
      else rest.push(edge);
    }
  }
  return [...first, ...closing, ...rest];
}

/**
 * Which responses of a group to compare.
 *
 * Small groups (n(n-1)/2 ≤ maxPairsPerGroup) get every pair, in index order. Larger groups get
 * a circulant design over a seeded shuffle of the ids: all pairs (i, i+1), then (i, i+2), …,
 * around the shuffled circle, until the bound is reached. A full offset adds two comparisons
 * to every member, so members end up with equal numbers of comparisons, or within one or two
 * of each other when the bound cuts an offset short. With maxPairsPerGroup ≥ n the first offset
 * completes: every member is compared at least twice and the comparison graph is connected
 * (one cycle through the group), which keeps win rates comparable across the group. Below
 * n/2 some members get no comparison at all (winRates flags them).
 */
export function planPairs(groupIds: readonly string[], options: PlanPairsOptions): [string, string][] {
  const { maxPairsPerGroup, seed } = options;
  if (!Number.isInteger(maxPairsPerGroup) || maxPairsPerGroup < 1) {
    throw new Error(`maxPairsPerGroup must be a positive integer, got ${maxPairsPerGroup}`);
  }
  const n = groupIds.length;
  if (new Set(groupIds).size !== n) throw new Error('planPairs: group ids must be unique');
  const pairs: [string, string][] = [];
  if (n * (n - 1) / 2 <= maxPairsPerGroup) {
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) pairs.push([groupIds[i]!, groupIds[j]!]);
    return pairs;
  }
  const order = [...groupIds];
  const random = seededRandom(hashSeed(seed));
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  // Offsets 1..floor(n/2) cover every pair exactly once, and the bound is below that total.
  for (let k = 1; pairs.length < maxPairsPerGroup; k++) {
    for (const [i, j] of offsetPairs(n, k)) {
      if (pairs.length >= maxPairsPerGroup) break;
      pairs.push([order[i]!, order[j]!]);
    }
  }
  return pairs;
}

export interface WinRate {
  id: string;
  /** (wins + 0.5·ties) / comparisons; 0.5 when there were none. */
  reward: number;
  wins: number;
  ties: number;
  losses: number;
  /** Successful comparisons only. */
  comparisons: number;
  /** Comparisons the judge failed; excluded from the reward. */
  failed: number;
  /** Comparisons that were ties only because the two orders disagreed. */
  inconsistent: number;
  /** No successful comparison: the reward is the neutral 0.5, not a judgement. */
  noComparisons: boolean;
}

export interface WinRateReport extends JudgeCost {
  /** One per id, in the order given. */
  rates: WinRate[];
  failures: { a: string; b: string; reason: JudgeFailureReason; message: string }[];
}

/** Per-response rewards of one group from its comparisons. Failed comparisons count nowhere. */
export function winRates(ids: readonly string[], outcomes: readonly PreferenceOutcome[]): WinRateReport {
  const tallies = new Map<string, Omit<WinRate, 'reward' | 'noComparisons'>>();
  for (const id of ids) {
    if (tallies.has(id)) throw new Error(`winRates: duplicate id "${id}"`);
    tallies.set(id, { id, wins: 0, ties: 0, losses: 0, comparisons: 0, failed: 0, inconsistent: 0 });
  }
  const report: WinRateReport = { rates: [], failures: [], usage: { inputTokens: 0, outputTokens: 0 }, latencyMs: 0, attempts: 0 };
  for (const outcome of outcomes) {
    const a = tallies.get(outcome.a);
    const b = tallies.get(outcome.b);
    if (a === undefined || b === undefined || a === b) {
      throw new Error(`winRates: comparison ${outcome.a} vs ${outcome.b} is not between two distinct ids of this group`);
    }
    report.usage = addUsage(report.usage, outcome.usage);
    report.latencyMs += outcome.latencyMs;
    report.attempts += outcome.attempts;
    if (!outcome.ok) {
      a.failed++;
      b.failed++;
      report.failures.push({ a: outcome.a, b: outcome.b, reason: outcome.reason, message: outcome.message });
      continue;
    }
    a.comparisons++;
    b.comparisons++;
    if (outcome.inconsistent) {
      a.inconsistent++;
      b.inconsistent++;
    }
    if (outcome.winner === 'a') {
      a.wins++;
      b.losses++;
    } else if (outcome.winner === 'b') {
      b.wins++;
      a.losses++;
    } else {
      a.ties++;
      b.ties++;
    }
  }
  report.rates = ids.map((id) => {
    const t = tallies.get(id)!;
    const noComparisons = t.comparisons === 0;
    return { ...t, reward: noComparisons ? 0.5 : (t.wins + 0.5 * t.ties) / t.comparisons, noComparisons };
  });
  return report;
}
