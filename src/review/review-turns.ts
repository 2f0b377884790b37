import { turnParts, type Message } from '../config/trajectory';
import { excerpt } from './review-item';

/** A turn of a trajectory as the review page shows it: who speaks, what it says, the tools it calls. */
export interface ReviewTurn {
  role: Message['role'];
  label: string;
  text: string;
  toolCalls?: string[];
}

/** Per-turn bounds: a reviewer reads the conversation, not a log; long tool output is cut with a count. */
export const TURN_CHARS = { text: 1500, toolCall: 600 };
/** A long agent trajectory keeps its opening (system, task) and its end (where the answer came from). */
export const MAX_TURNS = { head: 4, tail: 16 };

/**
 * The turns before a trajectory's final answer, for the review page. Turns left out of the
 * middle of a long trajectory are counted in a note where they were, so nobody mistakes the
 * excerpt for the whole conversation.
 */
export function reviewTurns(messages: readonly Message[]): ReviewTurn[] {
  const before = messages.slice(0, -1).map(turnParts);
  const kept =
    before.length <= MAX_TURNS.head + MAX_TURNS.tail
      ? before
      : [
          ...before.slice(0, MAX_TURNS.head),
          { role: 'system' as const, label: 'Note', text: `${before.length - MAX_TURNS.head - MAX_TURNS.tail} turns left out here`, toolCalls: [] },
          ...before.slice(-MAX_TURNS.tail),
        ];
  return kept.map(({ role, label, text, toolCalls }) => ({
    role,
    label,
    text: excerpt(text, TURN_CHARS.text),
    ...(toolCalls.length > 0 && { toolCalls: toolCalls.map((c) => excerpt(c, TURN_CHARS.toolCall)) }),
  }));
}
