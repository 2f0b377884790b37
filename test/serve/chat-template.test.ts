import { describe, expect, it } from 'vitest';
import { cleanResponse, DEFAULT_CHAT_TEMPLATE, promptTurns, readablePrompt, type ChatTemplateSettings } from '../../src/serve/chat-template';
import { floatJson } from '../../src/serve/float-json';
import { openRlhfRollouts } from '../../src/serve/wire-shapes';

const auto = DEFAULT_CHAT_TEMPLATE;
const Q = 'Is this clause enforceable?';
const A = 'Probably not: it has no consideration.';

/** Each family's prompt (system + user, with the generation prompt) and its generated answer as decoded with special tokens. */
const TEMPLATES = {
  chatml: {
    prompt: `<|im_start|>system\nYou are a lawyer.<|im_end|>\n<|im_start|>user\n${Q}<|im_end|>\n<|im_start|>assistant\n`,
    answer: `${A}<|im_end|><|endoftext|><|endoftext|>`,
    empty: '<|im_end|>',
  },
  llama3: {
    prompt: `<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nYou are a lawyer.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\n${Q}<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n`,
    answer: `${A}<|eot_id|>`,
    empty: '<|eot_id|>',
  },
  gemma: {
    prompt: `<bos><start_of_turn>user\nYou are a lawyer.\n\n${Q}<end_of_turn>\n<start_of_turn>model\n`,
    answer: `${A}<end_of_turn><eos>`,
    empty: '<end_of_turn>',
  },
  mistral: {
    prompt: `<s>[INST] You are a lawyer.\n\n${Q} [/INST]`,
    answer: `${A}</s>`,
    empty: '</s>',
  },
  deepseek: {
    prompt: `<｜begin▁of▁sentence｜>You are a lawyer.<｜User｜>${Q}<｜Assistant｜>`,
    answer: `${A}<｜end▁of▁sentence｜>`,
    empty: '<｜end▁of▁sentence｜>',
  },
} as const;

describe('chat templates: what the judge reads of OpenRLHF’s decoded text', () => {
  for (const [name, t] of Object.entries(TEMPLATES)) {
    it(`${name}: the prompt's turns without markers, the answer without end tokens, an empty generation empty`, () => {
      for (const settings of [auto, { template: name, extraTokens: [] } as ChatTemplateSettings]) {
        const turns = promptTurns(t.prompt, settings)!;
        expect(turns.at(-1)).toEqual({ role: 'user', content: expect.stringContaining(Q) });
        expect(readablePrompt(t.prompt, settings)).toContain(Q);
        expect(readablePrompt(t.prompt, settings)).not.toMatch(/<\||<｜|<start_of_turn>|<bos>|\[INST\]|<s>/);
        expect(cleanResponse(t.answer, t.prompt, settings)).toBe(A);
        expect(cleanResponse(t.empty, t.prompt, settings)).toBe('');
      }
    });
  }

  it('keeps the system turn, labelled, and a lone user turn as its bare text', () => {
    expect(readablePrompt(TEMPLATES.chatml.prompt, auto)).toBe(`System: You are a lawyer.\n\nUser: ${Q}`);
    expect(readablePrompt(`<|im_start|>user\n${Q}<|im_end|>\n<|im_start|>assistant\n`, auto)).toBe(Q);
    expect(readablePrompt(TEMPLATES.deepseek.prompt, auto)).toBe(`System: You are a lawyer.\n\nUser: ${Q}`);
  });

  it('leaves text alone that merely looks like a token of another family (HTML strikethrough is not Mistral)', () => {
    const html = 'Use <s>old</s> markup <eos> here';
    expect(cleanResponse(`${html}<|im_end|>`, TEMPLATES.chatml.prompt, auto)).toBe(html);
    expect(cleanResponse(html, 'a plain prompt', auto)).toBe(html);
  });

  it('removes extra tokens the user names; `none` changes nothing', () => {
    const settings = { template: 'auto', extraTokens: ['<|tool_call|>'] } as ChatTemplateSettings;
    expect(cleanResponse(`call<|tool_call|>${A}<|im_end|>`, TEMPLATES.chatml.prompt, settings)).toBe(`call${A}`);
    const none = { template: 'none', extraTokens: [] } as ChatTemplateSettings;
    expect(cleanResponse(TEMPLATES.chatml.answer, TEMPLATES.chatml.prompt, none)).toBe(TEMPLATES.chatml.answer);
    expect(readablePrompt(TEMPLATES.chatml.prompt, none)).toBe(TEMPLATES.chatml.prompt);
  });

  it('OpenRLHF: the response is exactly the query after its templated prompt, then cleaned', () => {
    const { prompt, answer, empty } = TEMPLATES.llama3;
    const [full, blank, whole] = openRlhfRollouts(
      { query: [prompt + answer, prompt + empty, 'no template here'], prompts: [prompt, prompt, 'other'], labels: ['ref', { a: 1 }, null] },
      auto,
    );
    expect(full).toEqual({ id: '0', prompt: `System: You are a lawyer.\n\nUser: ${Q}`, response: A, reference: 'ref' });
    expect(blank).toMatchObject({ response: '', reference: '{"a":1}' });
    expect(whole).toEqual({ id: '2', prompt: 'other', response: 'no template here' });
  });
});

describe('float JSON (the trainers’ routes)', () => {
  it('writes every number as a float and is otherwise JSON', () => {
    const value = { rewards: [1, 0, 0.25, -3], step: 7, big: 1e21, nan: NaN, s: 'x', n: null, u: undefined, list: [undefined, true] };
    const text = floatJson(value);
    expect(text).toBe('{"rewards":[1.0,0.0,0.25,-3.0],"step":7.0,"big":1e+21,"nan":null,"s":"x","n":null,"list":[null,true]}');
    expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(value)));
  });
});
