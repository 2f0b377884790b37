import type { Rollout } from '../config/rollout';
import { askForVerdict, type AskOutcome } from './ask-verdict';
import { LlmJudgeBase, type LlmJudgeOptions } from './llm-judge-base';
import { parsePreferenceVerdict, type PreferenceVerdict } from './parse-verdict';
import { blankPairOutcome, combineOrders, type PairWinner, type PreferenceOutcome } from './preference';
import { addUsage } from './judge';
import { buildPreferencePrompt, preferenceReaskText, preferenceSystemPrompt } from './prompts/preference-prompt';

export type LlmPreferenceJudgeOptions = LlmJudgeOptions;

/**
 * Preference mode: two responses to the same prompt, side by side. Each pair is asked twice,
 * a shown first then b shown first, one after the other (a failed first order skips the second,
 * since a one-sided answer would bring position bias back).
 *
 * The two verdicts are combined by `combineOrders`. Empty responses are decided without the
 * model (`blankPairOutcome`), as in rubric mode.
 */
export class LlmPreferenceJudge extends LlmJudgeBase {
  private system: string | undefined;

  protected get systemPrompt(): string {
    return (this.system ??= preferenceSystemPrompt(this.rubric));
  }

  async compare(prompt: string, a: Rollout, b: Rollout, signal?: AbortSignal): Promise<PreferenceOutcome> {
    const ids = { a: a.id, b: b.id };
    const blank = blankPairOutcome(a, b);
    if (blank) return blank;

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
    return {
      ...ids,
      ok: true,
      ...combineOrders(votes),
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
    // Every pair of a group, in both orders, shares the prompt and reference: cached once.
    const shared = this.groupCached(prompt, reference);
    const built = buildPreferencePrompt(this.rubric, { prompt, responseA, responseB, reference }, this.nonceFor(shared, prompt, reference), shared);
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
