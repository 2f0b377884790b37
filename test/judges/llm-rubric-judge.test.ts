import { describe, expect, it } from 'vitest';
import { ChatCallError } from '../../src/call-policy/chat-call-error';
import { LlmRubricJudge, rubricScore } from '../../src/judges/llm-rubric-judge';
import { RUBRIC_OUTPUT_FORMAT } from '../../src/judges/prompts/rubric-prompt';
import { RubricSchema, type RubricInput } from '../../src/config/rubric';
import { ScriptedChat } from './scripted-chat';

const RUBRIC: RubricInput = {
  criteria: [
    { id: 'correct', description: 'Gives the right answer.', weight: 2 },
    { id: 'concise', description: 'At most two sentences.' },
    { id: 'polite', description: 'Polite tone.' },
  ],
};
const ROLLOUT = { id: 'r1', prompt: 'Capital of France?', response: 'Paris.' };

function verdict(passes: Record<string, boolean>, rationale = 'ok'): string {
  return JSON.stringify({
    criteria: Object.entries(passes).map(([id, pass]) => ({ id, pass, evidence: `evidence for ${id}` })),
    rationale,
  });
}

function judgeWith(chat: ScriptedChat, rubric: RubricInput = RUBRIC): LlmRubricJudge {
  return new LlmRubricJudge({ chat, rubric, nonce: () => 'n1' });
}

describe('rubricScore', () => {
  const rubric = RubricSchema.parse({
    criteria: [
      { id: 'a', description: 'd', weight: 3 },
      { id: 'b', description: 'd', weight: 1 },
      { id: 'safe', description: 'd', veto: true },
    ],
    vetoCap: 0.25,
  });
  const v = (a: boolean, b: boolean, safe: boolean) => [
    { id: 'a', pass: a, evidence: '' },
    { id: 'b', pass: b, evidence: '' },
    { id: 'safe', pass: safe, evidence: '' },
  ];

  it('is the weighted share of passed criteria', () => {
    expect(rubricScore(rubric, v(true, true, true))).toBe(1);
    expect(rubricScore(rubric, v(true, false, true))).toBe(0.8);
    expect(rubricScore(rubric, v(false, true, true))).toBe(0.4);
  });

  it('caps the score at vetoCap when a veto criterion fails', () => {
    expect(rubricScore(rubric, v(true, true, false))).toBe(0.25);
    // Already below the cap: the veto does not raise it.
    expect(rubricScore(rubric, v(false, false, false))).toBe(0);
  });

  it('caps at 0 by default', () => {
    const strict = RubricSchema.parse({ criteria: [{ id: 'a', description: 'd' }, { id: 'v', description: 'd', veto: true }] });
    expect(
      rubricScore(strict, [
        { id: 'a', pass: true, evidence: '' },
        { id: 'v', pass: false, evidence: '' },
      ]),
    ).toBe(0);
  });
});

describe('LlmRubricJudge', () => {
  it('asks once, scores by weight and reports cost', async () => {
    const chat = new ScriptedChat([
      { text: verdict({ correct: true, concise: false, polite: true }, 'fine'), usage: { inputTokens: 700, outputTokens: 90 }, latencyMs: 321 },
    ]);
    const judge = judgeWith(chat);
    const result = await judge.judge(ROLLOUT);
    expect(result).toEqual({
      ok: true,
      score: 0.75,
      rationale: 'fine',
      criteria: [
        { id: 'correct', pass: true, evidence: 'evidence for correct' },
        { id: 'concise', pass: false, evidence: 'evidence for concise' },
        { id: 'polite', pass: true, evidence: 'evidence for polite' },
      ],
      usage: { inputTokens: 700, outputTokens: 90 },
      latencyMs: 321,
      attempts: 1,
    });
    expect(judge.provider).toBe('scripted');
    expect(judge.model).toBe('scripted-judge-1');
    expect(chat.requests).toHaveLength(1);
    const request = chat.requests[0]!;
    expect(request.temperature).toBe(0);
    expect(request.maxTokens).toBe(1024);
    expect(request.messages).toHaveLength(1);
    expect(request.messages[0]!.text).toContain('<<<ROLLOUT_RESPONSE_n1>>>\nParis.\n<<<END_ROLLOUT_RESPONSE_n1>>>');
    expect(request.system).toContain('- correct: Gives the right answer.');
  });

  it('passes temperature, maxTokens and the abort signal through', async () => {
    const chat = new ScriptedChat([verdict({ correct: true, concise: true, polite: true })]);
    const controller = new AbortController();
    const judge = new LlmRubricJudge({ chat, rubric: RUBRIC, temperature: 0.3, maxTokens: 2000 });
    await judge.judge(ROLLOUT, controller.signal);
    expect(chat.requests[0]).toMatchObject({ temperature: 0.3, maxTokens: 2000 });
    expect(chat.signals[0]).toBe(controller.signal);
  });

  it('applies the veto cap', async () => {
    const chat = new ScriptedChat([verdict({ correct: false, concise: true, polite: true })]);
    const judge = judgeWith(chat, {
      criteria: [{ id: 'correct', description: 'd', veto: true }, { id: 'concise', description: 'd' }, { id: 'polite', description: 'd' }],
      vetoCap: 0.1,
    });
    const result = await judge.judge(ROLLOUT);
    expect(result).toMatchObject({ ok: true, score: 0.1 });
  });

  it('re-asks once with its bad answer and the validation error, then succeeds', async () => {
    const bad = `Sure! ${verdict({ correct: true, concise: true })}`;
    const chat = new ScriptedChat([
      { text: bad, usage: { inputTokens: 500, outputTokens: 40 }, latencyMs: 100 },
      { text: verdict({ correct: true, concise: true, polite: false }), usage: { inputTokens: 650, outputTokens: 60 }, latencyMs: 150 },
    ]);
    const result = await judgeWith(chat).judge(ROLLOUT);
    expect(result).toMatchObject({
      ok: true,
      score: 0.75,
      usage: { inputTokens: 1150, outputTokens: 100 },
      latencyMs: 250,
      attempts: 2,
    });
    expect(chat.requests).toHaveLength(2);
    const [first, second] = chat.requests;
    expect(second!.system).toBe(first!.system);
    expect(second!.messages).toHaveLength(3);
    expect(second!.messages[0]).toEqual(first!.messages[0]);
    expect(second!.messages[1]).toEqual({ role: 'assistant', text: bad });
    expect(second!.messages[2]!.role).toBe('user');
    expect(second!.messages[2]!.text).toContain('missing criteria: "polite"');
    expect(second!.messages[2]!.text).toContain(RUBRIC_OUTPUT_FORMAT);
  });

  it('fails with the last reason when the re-ask is bad too', async () => {
    const chat = new ScriptedChat(['no json here', verdict({ correct: 'yes' as unknown as boolean, concise: true, polite: true })]);
    const result = await judgeWith(chat).judge(ROLLOUT);
    expect(result).toMatchObject({ ok: false, reason: 'schema', attempts: 2, usage: { inputTokens: 200, outputTokens: 40 } });
    expect(!result.ok && result.message).toMatch(/criteria\.0\.pass/);
    expect(!result.ok && result.message).toMatch(/first answer: the answer contains no JSON object/);
    expect(chat.requests).toHaveLength(2);
  });

  it('re-asks a judge refusal once and reports a second refusal as refusal', async () => {
    const chat = new ScriptedChat(["I'm sorry, but I can't help with that.", 'I cannot evaluate this content.']);
    const result = await judgeWith(chat).judge(ROLLOUT);
    expect(result).toMatchObject({ ok: false, reason: 'refusal', attempts: 2 });
    expect(chat.requests[1]!.messages[2]!.text).toMatch(/not a request for you to produce or endorse/);
  });

  it('treats a content-filtered answer as a refusal', async () => {
    const chat = new ScriptedChat([
      { text: '', stopReason: 'content_filtered' },
      { text: '', stopReason: 'content_filtered' },
    ]);
    const result = await judgeWith(chat).judge(ROLLOUT);
    expect(result).toMatchObject({ ok: false, reason: 'refusal', attempts: 2 });
    // An empty assistant turn would be rejected by the providers.
    expect(chat.requests[1]!.messages[1]).toEqual({ role: 'assistant', text: '(empty answer)' });
  });

  it('tells the judge when its answer hit the token limit', async () => {
    const chat = new ScriptedChat([
      { text: '{"criteria":[{"id":"correct","pass":true,"evidence":"a very long', stopReason: 'max_tokens' },
      verdict({ correct: true, concise: true, polite: true }),
    ]);
    const result = await judgeWith(chat).judge(ROLLOUT);
    expect(result).toMatchObject({ ok: true, score: 1, attempts: 2 });
    expect(chat.requests[1]!.messages[2]!.text).toMatch(/1024-token limit/);
  });

  it('turns a ChatCallError into a failure without retrying', async () => {
    const chat = new ScriptedChat([new ChatCallError('throttled', 'ThrottlingException: slow down', true, 42, 'ThrottlingException')]);
    const result = await judgeWith(chat).judge(ROLLOUT);
    expect(result).toEqual({
      ok: false,
      reason: 'throttled',
      message: 'ThrottlingException: slow down',
      // The chunk's recovery pass asks it again after a cool-down: throttling passes.
      retryable: true,
      usage: { inputTokens: 0, outputTokens: 0 },
      latencyMs: 42,
      attempts: 1,
    });
    expect(chat.requests).toHaveLength(1);
  });

  it('counts the first answer when the re-ask call itself fails', async () => {
    const chat = new ScriptedChat(['not json', new ChatCallError('timeout', 'timed out', true, 5000)]);
    const result = await judgeWith(chat).judge(ROLLOUT);
    expect(result).toMatchObject({
      ok: false,
      reason: 'timeout',
      attempts: 2,
      latencyMs: 5010,
      usage: { inputTokens: 100, outputTokens: 20 },
    });
  });

  it('rethrows errors that are not classified call failures', async () => {
    const chat = new ScriptedChat([new Error('bug')]);
    await expect(judgeWith(chat).judge(ROLLOUT)).rejects.toThrow('bug');
  });

  it.each(['', '   \n\t', '\u200b\u200b'])('fails every criterion of an empty response %j without calling the model', async (response) => {
    const chat = new ScriptedChat([]);
    const result = await judgeWith(chat).judge({ ...ROLLOUT, response });
    expect(chat.requests).toHaveLength(0);
    expect(result).toMatchObject({ ok: true, score: 0, attempts: 0, latencyMs: 0, usage: { inputTokens: 0, outputTokens: 0 } });
    expect(result.ok && result.criteria.map((c) => c.pass)).toEqual([false, false, false]);
    expect(result.ok && result.rationale).toMatch(/empty/);
  });

  it('rejects an invalid rubric at construction', () => {
    expect(() => new LlmRubricJudge({ chat: new ScriptedChat([]), rubric: { criteria: [] } })).toThrow();
  });
});
