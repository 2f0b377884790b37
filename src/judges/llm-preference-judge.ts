import type { Rollout } from '../config/rollout';
import { askForVerdict, type AskOutcome } from './ask-verdict';
import { isBlank, LlmJudgeBase, type LlmJudgeOptions } from './llm-judge-base';
import { parsePreferenceVerdict, type PreferenceVerdict } from './parse-verdict';
import type { PairWinner, PreferenceOutcome } from './preference';
import { addUsage } from './judge';
import { buildPreferencePrompt, preferenceReaskText } from './prompts/preference-prompt';

export type LlmPreferenceJudgeOptions = LlmJudgeOptions;

/**
 * Preference mode: two responses to the same prompt, side by side. Each pair is asked twice,
 * a shown first then b shown first, one after the other (a failed first order skips the second,
 * since a one-sided answer would bring position bias back).
 *
 * Combining the two verdicts: the same winner twice → that winner; opposite winners → tie,
 * flagged `inconsistent` (the judge followed position, not content); a winner once and a tie
 * once → tie, not flagged (a preference that does not survive the swap is not kept).
 *
 * Empty responses are decided without the model, as in rubric mode: both empty → tie; one
 * empty → the other wins.
 */
export class LlmPreferenceJudge extends LlmJudgeBase {
  async compare(prompt: string, a: Rollout, b: Rollout, signal?: AbortSignal): Promise<PreferenceOutcome> {
    const ids = { a: a.id, b: b.id };
    const emptyA = isBlank(a.response);
    const emptyB = isBlank(b.response);
    if (emptyA || emptyB) {
      const winner: PairWinner = emptyA && emptyB ? 'tie' : emptyA ? 'b' : 'a';
      const rationale =
        winner === 'tie'
          ? 'Both responses are empty (decided without calling the judge model).'
          : `Response ${emptyA ? a.id : b.id} is empty, so the other wins (decided without calling the judge model).`;
      return {
        ...ids,
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

    const reference = a.reference ?? b.reference;
    const first = await this.ask(prompt, a.response, b.response, reference, signal);
    if (!first.ok) return { ...ids, ...first, message: `with ${a.id} shown first: ${first.message}` };
    const second = await this.ask(prompt, b.response, a.response, reference, signal);
    const cost = {
      usage: addUsage(first.usage, second.usage),
      latencyMs: first.latencyMs + second.latencyMs,
      attempts: first.attempts + second.attempts,
    };
    if (!second.ok) {
      return { ...ids, ok: false, reason: second.reason, message: `with ${b.id} shown first: ${second.message}`, retryable: second.retryable, ...cost };
    }

    const votes: [PairWinner, PairWinner] = [
      toPair(first.value.winner, 'a', 'b'),
      toPair(second.value.winner, 'b', 'a'),
    ];
    const agree = votes[0] === votes[1];
    const inconsistent = !agree && votes[0] !== 'tie' && votes[1] !== 'tie';
    return {
      ...ids,
      ok: true,
      winner: agree ? votes[0] : 'tie',
      inconsistent,
      votes,
      rationale: `With ${a.id} as A: ${first.value.rationale}\nWith ${b.id} as A: ${second.value.rationale}`,
      ...cost,
    };
  }

  private ask(
    prompt: string,
    responseA: string,
    responseB: string,
    reference: string | undefined,
    signal: AbortSignal | undefined,
  ): Promise<AskOutcome<PreferenceVerdict>> {
    const built = buildPreferencePrompt(this.rubric, { prompt, responseA, responseB, reference }, this.nonce);
    return askForVerdict({
      chat: this.chat,
      request: { ...built, temperature: this.temperature, maxTokens: this.maxTokens },
      parse: parsePreferenceVerdict,
      reask: preferenceReaskText,
      signal,
    });
  }
}

/** Maps the judge's A/B back to the pair's a/b for one presentation order. */
function toPair(winner: PreferenceVerdict['winner'], shownAsA: PairWinner, shownAsB: PairWinner): PairWinner {
  return winner === 'A' ? shownAsA : winner === 'B' ? shownAsB : 'tie';
}
