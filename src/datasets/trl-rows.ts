import type { Rollout } from '../config/rollout';
import { messageText, type Message } from '../config/trajectory';

/**
 * Rollouts as the columns TRL's trainers read (its "dataset formats" guide): standard rows are
 * strings (`prompt`, `completion`, `chosen`, `rejected`); conversational rows are lists of
 * {role, content} messages, the prompt holding the turns before the policy's own part.
 * Every row of one file has the same form, because Hugging Face `datasets` gives a column one
 * type: a file with one trajectory in it is conversational throughout, and its plain rollouts
 * become a user turn and an assistant turn.
 */
export type Turn = { role: Message['role']; content: string; tool_calls?: ToolCallOut[]; tool_call_id?: string; name?: string };
type ToolCallOut = { id?: string; type: string; function: { name: string; arguments: string } };
export type Text = string | Turn[];

/** A rollout split into what the policy was given and what it produced. */
export function promptAndCompletion(rollout: Rollout, conversational: boolean): { prompt: Text; completion: Text } {
  if (!conversational) return { prompt: rollout.prompt, completion: rollout.response };
  if (rollout.messages === undefined) {
    return { prompt: [{ role: 'user', content: rollout.prompt }], completion: [{ role: 'assistant', content: rollout.response }] };
  }
  const turns = rollout.messages.map(turn);
  // The policy's part starts after the last turn it was given (a system, developer or user turn):
  // its tool calls, their results and its answer are all its own doing.
  let asked = turns.length - 1;
  while (asked >= 0 && !['system', 'developer', 'user'].includes(turns[asked]!.role)) asked--;
  return { prompt: turns.slice(0, asked + 1), completion: turns.slice(asked + 1) };
}

/**
 * One message in one shape for every row: content as text (a list of parts, or null beside
 * tool calls, read as its text), tool-call arguments as a JSON string as the OpenAI format has
 * them (an object in one row and a string in another would be two types in one column).
 */
function turn(m: Message): Turn {
  const out: Turn = { role: m.role, content: messageText(m.content) };
  if (m.tool_calls?.length) {
    out.tool_calls = m.tool_calls.map((c) => ({
      ...(c.id !== undefined && { id: c.id }),
      type: c.type ?? 'function',
      function: { name: c.function.name, arguments: typeof c.function.arguments === 'string' ? c.function.arguments : JSON.stringify(c.function.arguments ?? {}) },
    }));
  }
  if (m.tool_call_id !== undefined) out.tool_call_id = m.tool_call_id;
  if (m.name !== undefined) out.name = m.name;
  return out;
}
