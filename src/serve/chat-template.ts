/**
 * Text that trainers decode with their special tokens (OpenRLHF decodes prompt and response with
 * `skip_special_tokens=False`), made readable for the judge: the prompt's chat template parsed
 * into its turns, and end-of-turn, end-of-text and padding tokens removed from the response, so
 * an empty generation is judged as empty rather than as the text `<|im_end|>`.
 */

import { renderTurns, type Message } from '../config/trajectory';

export const CHAT_TEMPLATES = ['auto', 'chatml', 'llama3', 'gemma', 'mistral', 'deepseek', 'none'] as const;
export type ChatTemplateName = (typeof CHAT_TEMPLATES)[number];

export interface ChatTemplateSettings {
  /** The trainer's chat template family; `auto` recognises it from the prompt's markers. */
  template: ChatTemplateName;
  /** More special tokens to remove (a model's own, e.g. `<|tool_call|>`). */
  extraTokens: readonly string[];
}

export const DEFAULT_CHAT_TEMPLATE: ChatTemplateSettings = { template: 'auto', extraTokens: [] };

export interface Turn {
  role: string;
  content: string;
}

interface Family {
  name: Exclude<ChatTemplateName, 'auto' | 'none'>;
  /** A marker only this family's prompts contain. */
  marker: string;
  /** Every special token the family's decoded text may hold. */
  tokens: string[];
  turns(text: string): Turn[];
}

/** `open role close content end` turns, as ChatML, Llama 3 and Gemma write them. */
function headedTurns(text: string, pattern: RegExp, roleOf: (role: string) => string = (r) => r): Turn[] {
  return [...text.matchAll(pattern)].map((m) => ({ role: roleOf(m[1]!), content: m[2]! }));
}

const FAMILIES: Family[] = [
  {
    name: 'chatml',
    marker: '<|im_start|>',
    tokens: ['<|im_start|>', '<|im_end|>', '<|endoftext|>'],
    turns: (t) => headedTurns(t, /<\|im_start\|>(\w+)\n([\s\S]*?)(?=<\|im_end\|>|<\|im_start\|>|$)/g),
  },
  {
    name: 'llama3',
    marker: '<|start_header_id|>',
    tokens: ['<|begin_of_text|>', '<|start_header_id|>', '<|end_header_id|>', '<|eot_id|>', '<|eom_id|>', '<|end_of_text|>', '<|finetune_right_pad_id|>'],
    turns: (t) => headedTurns(t, /<\|start_header_id\|>(\w+)<\|end_header_id\|>\n*([\s\S]*?)(?=<\|eot_id\|>|<\|eom_id\|>|<\|start_header_id\|>|$)/g),
  },
  {
    name: 'gemma',
    marker: '<start_of_turn>',
    tokens: ['<bos>', '<start_of_turn>', '<end_of_turn>', '<eos>', '<pad>'],
    turns: (t) => headedTurns(t, /<start_of_turn>(\w+)\n([\s\S]*?)(?=<end_of_turn>|<start_of_turn>|$)/g, (r) => (r === 'model' ? 'assistant' : r)),
  },
  {
    name: 'deepseek',
    marker: '<｜User｜>',
    tokens: ['<｜begin▁of▁sentence｜>', '<｜end▁of▁sentence｜>', '<｜User｜>', '<｜Assistant｜>', '<｜▁pad▁｜>'],
    turns: (t) => {
      const body = t.replaceAll('<｜begin▁of▁sentence｜>', '');
      const parts = body.split(/(<｜User｜>|<｜Assistant｜>)/);
      const turns: Turn[] = parts[0]!.trim() ? [{ role: 'system', content: parts[0]! }] : [];
      for (let i = 1; i < parts.length; i += 2) {
        turns.push({ role: parts[i] === '<｜User｜>' ? 'user' : 'assistant', content: parts[i + 1]!.replaceAll('<｜end▁of▁sentence｜>', '') });
      }
      return turns;
    },
  },
  {
    name: 'mistral',
    marker: '[INST]',
    tokens: ['<s>', '</s>', '[INST]', '[/INST]'],
    turns: (t) => {
      const turns: Turn[] = [];
      for (const m of t.matchAll(/\[INST\]([\s\S]*?)\[\/INST\]([\s\S]*?)(?=\[INST\]|$)/g)) {
        turns.push({ role: 'user', content: m[1]! });
        const answer = m[2]!.replaceAll('</s>', '').replaceAll('<s>', '');
        if (answer.trim()) turns.push({ role: 'assistant', content: answer });
      }
      return turns;
    },
  },
];

/**
 * Tokens removed from a response whatever the template: end-of-turn and end-of-text markers that
 * ordinary text never holds. Mistral's `<s>`/`</s>` and Gemma's `<bos>`/`<eos>` could be text
 * (HTML's strikethrough), so they are removed only when the prompt is in that family's template.
 */
const UNAMBIGUOUS = FAMILIES.flatMap((f) => f.tokens).filter((t) => /^<[|｜]|^<(start|end)_of_turn>$/.test(t));

function familyOf(settings: ChatTemplateSettings, prompt: string): Family | undefined {
  if (settings.template === 'none') return undefined;
  if (settings.template !== 'auto') return FAMILIES.find((f) => f.name === settings.template);
  return FAMILIES.find((f) => prompt.includes(f.marker));
}

function removeAll(text: string, tokens: readonly string[]): string {
  let out = text;
  for (const token of tokens) if (token !== '') out = out.split(token).join('');
  return out;
}

/** The response as the judge should read it: without special tokens, trimmed. */
export function cleanResponse(response: string, prompt: string, settings: ChatTemplateSettings): string {
  if (settings.template === 'none') return removeAll(response, settings.extraTokens);
  const family = familyOf(settings, prompt);
  return removeAll(response, [...(family?.tokens ?? []), ...UNAMBIGUOUS, ...settings.extraTokens]).trim();
}

/**
 * The prompt's turns, when it is in a chat template Arbiter knows (the generation prompt's empty
 * assistant turn left out), else undefined.
 */
export function promptTurns(prompt: string, settings: ChatTemplateSettings): Turn[] | undefined {
  const family = familyOf(settings, prompt);
  if (!family) return undefined;
  const turns = family
    .turns(prompt)
    .map((t) => ({ role: t.role, content: removeAll(t.content, [...family.tokens, ...settings.extraTokens]).trim() }))
    .filter((t) => t.content !== '');
  return turns.length > 0 ? turns : undefined;
}

/** The template's roles as trajectory roles: Llama 3 calls tool results `ipython`; anything unknown is read as the user's. */
function asMessage(turn: Turn): Message {
  const role = turn.role === 'ipython' ? 'tool' : (['system', 'developer', 'user', 'assistant', 'tool'] as const).find((r) => r === turn.role) ?? 'user';
  return { role, content: turn.content };
}

/** The prompt as the judge should read it: its turns if templated, else the text without special tokens. */
export function readablePrompt(prompt: string, settings: ChatTemplateSettings): string {
  const turns = promptTurns(prompt, settings);
  if (turns) return renderTurns(turns.map(asMessage));
  return settings.template === 'none' ? prompt : removeAll(prompt, [...UNAMBIGUOUS, ...settings.extraTokens]).trim();
}
