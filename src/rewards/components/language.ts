// franc (wooorm/franc): maintained, pure-JS trigram (n-gram) detection of 187 languages, fully
// offline with no model download or native code, so it is cheap enough to run on every rollout
// inside a worker. It returns ISO 639-3 codes and 'und' when the text is too short to call.
import { francAll } from 'franc';
import type { Rollout } from '../../config/rollout';
import type { LanguageConfig } from '../../config/reward-config';
import type { ComponentResult } from './component-result';

type Scores = ReadonlyArray<readonly [string, number]>;

/**
 * franc scores candidates relative to the best (1.0). Close languages score near-ties on short
 * texts (English vs Scots ~0.96, JSON keys vs English ~0.98), while a genuine switch (English vs
 * German, French, Dutch) scores well below 0.8; a near-tie is not evidence of a switch.
 */
const NEAR_TIE = 0.9;

function nearTop(scores: Scores, language: string): boolean {
  return scores.some(([code, score]) => code === language && score >= NEAR_TIE);
}

function detect(text: string, config: LanguageConfig): Scores {
  return francAll(text, { minLength: config.minLength, only: config.only });
}

/** 1 when the response is in the expected language; undetermined languages are neutral, not wrong. */
export function languageComponent(rollout: Rollout, config: LanguageConfig): ComponentResult {
  const response = detect(rollout.response, config);
  const responseTop = response[0]?.[0] ?? 'und';
  if (responseTop === 'und') return { value: 1, note: 'response language undetermined' };

  if (config.match !== 'prompt') {
    if (nearTop(response, config.match)) return { value: 1 };
    return { value: 0, note: `response ${responseTop}, expected ${config.match}` };
  }

  const prompt = detect(rollout.prompt, config);
  const promptTop = prompt[0]?.[0] ?? 'und';
  if (promptTop === 'und') return { value: 1, note: 'prompt language undetermined' };
  if (nearTop(response, promptTop) || nearTop(prompt, responseTop)) return { value: 1 };
  return { value: 0, note: `response ${responseTop}, prompt ${promptTop}` };
}
