import { describe, expect, it } from 'vitest';
import type { Message } from '../../src/config/trajectory';
import { MAX_TURNS, reviewTurns, TURN_CHARS } from '../../src/review/review-turns';

const answer: Message = { role: 'assistant', content: 'the final answer' };

describe('reviewTurns', () => {
  it('gives each turn before the final answer its speaker, text and tool calls', () => {
    const turns = reviewTurns([
      { role: 'user', content: [{ type: 'text', text: 'Look it ' }, { type: 'text', text: 'up.' }] },
      { role: 'assistant', content: null, tool_calls: [{ id: 'c1', function: { name: 'search', arguments: { q: 'x' } } }] },
      { role: 'tool', name: 'search', tool_call_id: 'c1', content: 'found' },
      answer,
    ]);
    expect(turns).toEqual([
      { role: 'user', label: 'User', text: 'Look it up.' },
      { role: 'assistant', label: 'Assistant', text: '', toolCalls: ['[calls tool search (call c1)] {"q":"x"}'] },
      { role: 'tool', label: 'Tool result from search (call c1)', text: 'found' },
    ]);
  });

  it('keeps the opening and the end of a long trajectory and counts what it left out', () => {
    const middle: Message[] = Array.from({ length: 40 }, (_, i) => ({ role: i % 2 ? 'tool' : 'assistant', content: `turn ${i}` }) as Message);
    const turns = reviewTurns([...middle, answer]);
    expect(turns).toHaveLength(MAX_TURNS.head + 1 + MAX_TURNS.tail);
    expect(turns.slice(0, MAX_TURNS.head).map((t) => t.text)).toEqual(['turn 0', 'turn 1', 'turn 2', 'turn 3']);
    expect(turns[MAX_TURNS.head]).toMatchObject({ label: 'Note', text: `${40 - MAX_TURNS.head - MAX_TURNS.tail} turns left out here` });
    expect(turns.at(-1)!.text).toBe('turn 39');
  });

  it('cuts a long tool output and says how much is missing', () => {
    const [turn] = reviewTurns([{ role: 'tool', content: 'x'.repeat(TURN_CHARS.text + 50) }, answer]);
    expect(turn!.text).toBe(`${'x'.repeat(TURN_CHARS.text)}… [50 more characters]`);
  });
});
