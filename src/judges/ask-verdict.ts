import type { JudgeFailureReason } from '../call-policy/judge-failure-reason';
import { ChatCallError } from '../call-policy/chat-call-error';
import { REASKS_PER_QUESTION } from '../call-policy/judge-call-policy';
import { type ChatModel, type ChatRequest, type ChatResponse } from './chat-model';
import { addUsage, type JudgeCost } from './judge';
import type { VerdictParse } from './parse-verdict';

export type AskOutcome<T> = (
  | { ok: true; value: T }
  | { ok: false; reason: JudgeFailureReason; message: string; retryable?: boolean }
) &
  JudgeCost;

export interface AskVerdictOptions<T> {
  chat: ChatModel;
  request: ChatRequest;
  parse: (text: string) => VerdictParse<T>;
  /** The user turn sent after an unusable answer, given what was wrong with it. */
  reask: (problem: string) => string;
  signal?: AbortSignal | undefined;
}

function interpret<T>(response: ChatResponse, request: ChatRequest, parse: (text: string) => VerdictParse<T>): VerdictParse<T> {
  const result = parse(response.text);
  if (result.ok) return result;
  if (response.stopReason === 'content_filtered') {
    return { ok: false, reason: 'refusal', message: `the provider's content filter stopped the judge's answer (${result.message})` };
  }
  if (response.stopReason === 'max_tokens') {
    return {
      ok: false,
      reason: result.reason,
      message: `${result.message} (the answer hit the ${request.maxTokens}-token limit: keep evidence and rationale short)`,
    };
  }
  return result;
}

/**
 * One judge question: an answer that does not parse, fails the schema or is a refusal gets a
 * re-ask (REASKS_PER_QUESTION, judge-call-policy.ts) that shows the judge its own answer and what was wrong.
 * Refusals are re-asked too: the re-ask reminds the judge that the data is to be graded, not
 * produced, which often unsticks a judge that mistook the rollout for a request.
 *
 * A ChatCallError is returned as a failure without retrying: retries belong to the wrapper
 * around `chat` (src/call-policy). Anything else (aborts, bugs) is rethrown.
 */
export async function askForVerdict<T>({ chat, request, parse, reask, signal }: AskVerdictOptions<T>): Promise<AskOutcome<T>> {
  const cost: JudgeCost = { usage: { inputTokens: 0, outputTokens: 0 }, latencyMs: 0, attempts: 0 };
  let messages = request.messages;
  let firstProblem: string | undefined;
  let reasks = 0;
  for (;;) {
    let response: ChatResponse;
    cost.attempts++;
    try {
      response = await chat.complete({ ...request, messages }, signal);
    } catch (err) {
      if (!(err instanceof ChatCallError)) throw err;
      cost.latencyMs += err.latencyMs;
      return { ok: false, reason: err.reason, message: err.message, retryable: err.retryable, ...cost };
    }
    cost.usage = addUsage(cost.usage, response.usage);
    cost.latencyMs += response.latencyMs;

    const result = interpret(response, request, parse);
    if (result.ok) return { ok: true, value: result.value, ...cost };
    if (reasks === REASKS_PER_QUESTION) {
      return {
        ok: false,
        reason: result.reason,
        message: `unusable judge answer after ${reasks === 1 ? 'one re-ask' : `${reasks} re-asks`}: ${result.message} (first answer: ${firstProblem})`,
        ...cost,
      };
    }
    firstProblem ??= result.message;
    reasks++;
    const previous = response.text.trim();
    messages = [
      ...messages,
      // Providers reject empty turns, and the judge should see that it said nothing.
      { role: 'assistant', text: previous === '' ? '(empty answer)' : previous },
      { role: 'user', text: reask(result.message) },
    ];
  }
}
