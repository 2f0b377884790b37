import type { ChatModel, ChatRequest, ChatResponse } from '../../src/judges/chat-model';

export type ScriptedAnswer = string | (Partial<ChatResponse> & { text: string }) | Error;

/**
 * An in-memory ChatModel (our own interface) answering from a queue and recording every
 * request, so tests can assert on the exact prompts sent.
 */
export class ScriptedChat implements ChatModel {
  readonly provider = 'scripted';
  readonly model = 'scripted-judge-1';
  readonly requests: ChatRequest[] = [];
  readonly signals: (AbortSignal | undefined)[] = [];
  private readonly queue: ScriptedAnswer[];

  constructor(answers: ScriptedAnswer[]) {
    this.queue = [...answers];
  }

  get remaining(): number {
    return this.queue.length;
  }

  async complete(request: ChatRequest, signal?: AbortSignal): Promise<ChatResponse> {
    this.requests.push(structuredClone(request));
    this.signals.push(signal);
    const next = this.queue.shift();
    if (next === undefined) throw new Error('ScriptedChat: no answer left in the script');
    if (next instanceof Error) throw next;
    const answer = typeof next === 'string' ? { text: next } : next;
    return {
      usage: { inputTokens: 100, outputTokens: 20 },
      latencyMs: 10,
      stopReason: 'end_turn',
      ...answer,
    };
  }
}

/** Nonces n1, n2, … so built prompts are predictable. */
export function countingNonce(prefix = 'n'): () => string {
  let i = 0;
  return () => `${prefix}${++i}`;
}
