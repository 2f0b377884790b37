import type { Rollout } from '../config/rollout';
import { askForVerdict } from './ask-verdict';
import type { ChatModel } from './chat-model';
import type { CriterionVerdict, Judge, Judgement } from './judge';
import { parseRubricVerdict } from './parse-verdict';
import type { NonceSource } from './prompts/delimit';
import { buildRubricPrompt, rubricReaskText } from './prompts/rubric-prompt';
import { RubricSchema, type Rubric, type RubricInput } from '../config/rubric';

export interface LlmRubricJudgeOptions {
  /** One request per call; wrap it for retries and rate limits before passing it in. */
  chat: ChatModel;
  rubric: RubricInput;
  temperature?: number;
  maxTokens?: number;
  /** Delimiter nonces; random by default, fixed in tests. */
  nonce?: NonceSource;
}

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

// \s does not cover zero-width characters, which render as nothing all the same.
const BLANK = /^[\s\u200b-\u200d\u2060\ufeff]*$/u;

/**
 * Rubric mode: boolean criteria per response, judged by an LLM.
 *
 * An empty or whitespace-only response is scored without calling the model (attempts 0):
 * the prompt says such a response fails every criterion anyway, so the call would only cost
 * money and add a chance of judge failure on degenerate rollouts, which are common early in RL.
 */
export class LlmRubricJudge implements Judge {
  readonly provider: string;
  readonly model: string;
  readonly rubric: Rubric;
  private readonly chat: ChatModel;
  private readonly temperature: number;
  private readonly maxTokens: number;
  private readonly nonce: NonceSource | undefined;

  constructor(options: LlmRubricJudgeOptions) {
    this.chat = options.chat;
    this.provider = options.chat.provider;
    this.model = options.chat.model;
    this.rubric = RubricSchema.parse(options.rubric);
    this.temperature = options.temperature ?? 0;
    this.maxTokens = options.maxTokens ?? 1024;
    this.nonce = options.nonce;
  }

  async judge(rollout: Rollout, signal?: AbortSignal): Promise<Judgement> {
    if (BLANK.test(rollout.response)) return this.emptyResponse();
    const prompt = buildRubricPrompt(this.rubric, rollout, this.nonce);
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
