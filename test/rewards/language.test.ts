import { describe, expect, it } from 'vitest';
import { languageComponent } from '../../src/rewards/components/language';
import { parseRewardConfig, type RewardConfigInput } from '../../src/config/reward-config';
import { rollout } from '../support/fixtures';

const languageConfig = (language: RewardConfigInput['language'] = {}) => parseRewardConfig({ language }).language;

const ENGLISH = 'High risk: the supplier may terminate at any time without notice, leaving no continuity.';
const GERMAN =
  'Hohes Risiko: Der Lieferant kann jederzeit ohne Vorankündigung kündigen, sodass keine Kontinuität besteht.';
const FRENCH = 'Risque élevé : le fournisseur peut résilier à tout moment sans préavis, sans aucune continuité.';

describe('languageComponent', () => {
  it('is 1 when the response is in the prompt language', () => {
    expect(languageComponent(rollout('r', { response: ENGLISH }), languageConfig())).toEqual({ value: 1 });
  });

  it('is 0 for a German response to an English prompt', () => {
    expect(languageComponent(rollout('r', { response: GERMAN }), languageConfig())).toEqual({
      value: 0,
      note: 'response deu, prompt eng',
    });
  });

  it('is neutral, with a note, when the response is too short to call', () => {
    expect(languageComponent(rollout('r', { response: 'Ja, genau.' }), languageConfig())).toEqual({
      value: 1,
      note: 'response language undetermined',
    });
    expect(languageComponent(rollout('r', { response: '' }), languageConfig())).toEqual({
      value: 1,
      note: 'response language undetermined',
    });
  });

  it('is neutral when the prompt is too short to call', () => {
    expect(languageComponent(rollout('r', { prompt: 'Translate:', response: GERMAN }), languageConfig())).toEqual({
      value: 1,
      note: 'prompt language undetermined',
    });
  });

  it('honours minLength', () => {
    const strict = languageConfig({ minLength: 500 });
    expect(languageComponent(rollout('r', { response: GERMAN }), strict).note).toBe('response language undetermined');
  });

  it('checks a fixed language regardless of the prompt', () => {
    const german = languageConfig({ match: 'deu' });
    expect(languageComponent(rollout('r', { response: GERMAN }), german)).toEqual({ value: 1 });
    expect(languageComponent(rollout('r', { response: FRENCH }), german)).toEqual({
      value: 0,
      note: 'response fra, expected deu',
    });
  });

  it('does not penalise a near-tie between close languages', () => {
    // franc calls this short English prompt Scots; English stays within a hair of it.
    const poem = rollout('r', {
      prompt: 'Write a short poem about the sea and the wind.',
      response: 'The sea is wide, the wind is free, and both of them keep calling me.',
    });
    expect(languageComponent(poem, languageConfig())).toEqual({ value: 1 });
    const spanish = { ...poem, response: 'El mar es ancho, el viento es libre, y ambos me siguen llamando.' };
    expect(languageComponent(spanish, languageConfig()).value).toBe(0);
  });

  it('lets `only` settle prompts the open detector gets wrong', () => {
    // Without a candidate list franc calls this English prompt Afrikaans.
    const sample = rollout('r', {
      prompt: 'Explain how photosynthesis works in simple terms.',
      response: 'Photosynthesis is the process by which plants use sunlight, water and carbon dioxide to make sugar.',
    });
    expect(languageComponent(sample, languageConfig()).value).toBe(0);
    expect(languageComponent(sample, languageConfig({ only: ['eng', 'deu', 'fra', 'spa'] }))).toEqual({ value: 1 });
  });
});
