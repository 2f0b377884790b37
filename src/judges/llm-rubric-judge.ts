import type { Rollout } from '../config/rollout';
import { askForVerdict } from './ask-verdict';
import { isBlank, LlmJudgeBase, type LlmJudgeOptions } from './llm-judge-base';
import type { CriterionVerdict, Judge, Judgement } from './judge';
import { parseRubricVerdict } from './parse-verdict';
import { buildRubricPrompt, rubricReaskText, rubricSystemPrompt } from './prompts/rubric-prompt';
import type { Rubric } from '../config/rubric';

export type LlmRubricJudgeOptions = LlmJudgeOptions;

/** Weighted share of passed criteria, capped at `vetoCap` when any veto criterion failed. */
export function rubricScore(rubric: Rubric, verdicts: readonly CriterionVerdict[]): number {
  const passed = new Map(verdicts.map((v) => [v.id, v.pass]));
  let total = 0;
  let gained = 0;
  let vetoed = false;
  for (const criterion of rubric.criteria) {
    total += criterion.weight;
    if (passed.get(criterion.id) === true) gained += criterion.weight;
    else if (criterion.veto) vetoed = true;
  }
  const score = total === 0 ? 0 : gained / total;
  return vetoed ? Math.min(score, rubric.vetoCap) : score;
}

/**
 * Rubric mode: boolean criteria per response, judged by an LLM.
 *
 * An empty or whitespace-only response is scored without calling the model (attempts 0):
 * the prompt says such a response fails every criterion anyway, so the call would only cost
 * money and add a chance of judge failure on degenerate rollouts, which are common early in RL.
 */
export class LlmRubricJudge extends LlmJudgeBase implements Judge {
  private system: string | undefined;

  protected get systemPrompt(): string {
    return (this.system ??= rubricSystemPrompt(this.rubric));
  }

  async judge(rollout: Rollout, signal?: AbortSignal): Promise<Judgement> {
    if (isBlank(rollout.response)) return this.emptyResponse();
    const shared = this.groupCached(rollout.prompt, rollout.reference);
    const prompt = buildRubricPrompt(this.rubric, rollout, this.nonceFor(shared, rollout.prompt, rollout.reference), shared);
    const ids = this.rubric.criteria.map((c) => c.id);
    const outcome = await askForVerdict({
      chat: this.chat,
      request: { ...prompt, temperature: this.temperature, maxTokens: this.maxTokens },
      parse: (text) => parseRubricVerdict(text, ids),
      reask: (problem) => rubricReaskText(this.rubric, problem),
      signal,
    });
    const cost = { usage: outcome.usage, latencyMs: outcome.latencyMs, attempts: outcome.attempts };
    if (!outcome.ok) return { ok: false, reason: outcome.reason, message: outcome.message, retryable: outcome.retryable, ...cost };
    const { criteria, rationale } = outcome.value;
    return { ok: true, score: rubricScore(this.rubric, criteria), rationale, criteria, ...cost };
  }

  private emptyResponse(): Judgement {
    const criteria = this.rubric.criteria.map((c) => ({ id: c.id, pass: false, evidence: 'the response is empty' }));
    return {
      ok: true,
      score: rubricScore(this.rubric, criteria),
      rationale: 'The response is empty or whitespace only, so every criterion fails (decided without calling the judge model).',
      criteria,
      usage: { inputTokens: 0, outputTokens: 0 },
      latencyMs: 0,
      attempts: 0,
    };
  }
}
