import { z } from 'zod';

/**
 * A multi-turn, tool-using trajectory in the OpenAI chat format (what TRL's conversational
 * datasets, verl's multi-turn rollouts, OpenRLHF's agent executor and Nova's `messages` carry),
 * and how the judge reads it: the turns before the final answer as a readable transcript (the
 * rollout's prompt), the final assistant turn as the response. Deterministic reward components
 * read the response, so they apply to the final answer.
 */

// Non-text parts (an image placeholder) are accepted and read as no text.
const TextPart = z.object({ type: z.string().optional(), text: z.string().optional() }).loose();
const Content = z.union([z.string(), z.array(z.union([z.string(), TextPart])), z.null()]);

const ToolCall = z.object({
  id: z.string().optional(),
  type: z.string().optional(),
  function: z.object({
    name: z.string().min(1),
    /** A JSON string, as the OpenAI format has it (an object is accepted too). */
    arguments: z.union([z.string(), z.record(z.string(), z.unknown())]).optional(),
  }),
});

export const MessageSchema = z.object({
  role: z.enum(['system', 'developer', 'user', 'assistant', 'tool']),
  content: Content.optional(),
  tool_calls: z.array(ToolCall).optional(),
  /** A tool result: the call it answers. */
  tool_call_id: z.string().optional(),
  /** A tool result: the tool's name (some formats put it here). */
  name: z.string().optional(),
});
export type Message = z.infer<typeof MessageSchema>;

/** A message's text: a string, or the text parts of a list of content blocks. */
export function messageText(content: Message['content'] | unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return content.map((part) => (typeof part === 'string' ? part : typeof part?.text === 'string' ? part.text : '')).join('');
  return content === undefined || content === null ? '' : JSON.stringify(content);
}

function callText(call: z.infer<typeof ToolCall>): string {
  const args = call.function.arguments;
  const shown = args === undefined ? '' : typeof args === 'string' ? args : JSON.stringify(args);
  return `[calls tool ${call.function.name}${call.id ? ` (call ${call.id})` : ''}] ${shown}`.trimEnd();
}

const LABEL: Record<Message['role'], string> = { system: 'System', developer: 'System', user: 'User', assistant: 'Assistant', tool: 'Tool result' };

/** One turn as people and the judge read it: who speaks (which tool, for a result), what it says, the tools it calls. */
export function turnParts(m: Message): { role: Message['role']; label: string; text: string; toolCalls: string[] } {
  const label =
    m.role === 'tool'
      ? `${LABEL.tool}${m.name ? ` from ${m.name}` : ''}${m.tool_call_id ? ` (call ${m.tool_call_id})` : ''}`
      : LABEL[m.role];
  return { role: m.role, label, text: messageText(m.content), toolCalls: (m.tool_calls ?? []).map(callText) };
}

/** One turn as the judge reads it: a label line, then its text and any tool calls. */
function turnText(m: Message): string {
  const { label, text, toolCalls } = turnParts(m);
  return `${label}: ${[text, ...toolCalls].filter((t) => t !== '').join('\n')}`;
}

/** Turns as the judge reads a prompt: one user turn alone as its text, several as labelled blocks. */
export function renderTurns(messages: readonly Message[]): string {
  const shown = messages.filter((m) => messageText(m.content) !== '' || (m.tool_calls?.length ?? 0) > 0);
  if (shown.length === 1 && shown[0]!.role === 'user' && !shown[0]!.tool_calls) return messageText(shown[0]!.content);
  return shown.map(turnText).join('\n\n');
}

/** Why these messages are not a trajectory the judge can grade, or undefined. */
export function trajectoryProblem(messages: readonly Message[]): string | undefined {
  const last = messages.at(-1);
  if (!last) return 'messages: at least one message (the final assistant turn)';
  if (last.role !== 'assistant') return `messages: the last message is the answer to grade and must have role "assistant", not "${last.role}"`;
  return undefined;
}

/** The prompt and response the judge and the reward components read from a trajectory. */
export function trajectoryText(messages: readonly Message[]): { prompt: string; response: string } {
  const final = messages.at(-1)!;
  const response = [messageText(final.content), ...(final.tool_calls ?? []).map(callText)].filter((t) => t !== '').join('\n');
  return { prompt: renderTurns(messages.slice(0, -1)), response };
}

/**
 * Two trajectories of one prompt as the preference judge compares them: the turns they share
 * (the system and user turns of the group, usually) as the prompt, and each one's own turns —
 * its tool calls, the results, its final answer — as what is compared. A trajectory whose own
 * part is only its final answer reads as that answer.
 */
export function trajectoryPair(a: readonly Message[], b: readonly Message[]): { prompt: string; a: string; b: string } {
  let shared = 0;
  // The final answers are never part of the shared prompt.
  while (shared < Math.min(a.length, b.length) - 1 && JSON.stringify(a[shared]) === JSON.stringify(b[shared])) shared++;
  const own = (m: readonly Message[]) => {
    const rest = m.slice(shared);
    return rest.length === 1 ? trajectoryText(rest).response : rest.map(turnText).join('\n\n');
  };
  return { prompt: renderTurns(a.slice(0, shared)), a: own(a), b: own(b) };
}
