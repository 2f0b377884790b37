import type { Rollout } from '../../config/rollout';
import type { SafetyConfig, SafetyPattern } from '../../config/reward-config';
import type { ComponentResult } from './component-result';
import { SAFETY_RULES } from './safety-rules';

const MAX_NAMED_HITS = 4;

// Configs arrive as plain JSON (workflow inputs), so patterns are compiled here, once per process.
const compiled = new Map<string, RegExp>();

function compile(pattern: SafetyPattern): RegExp {
  const key = `${pattern.flags ?? ''}/${pattern.regex}`;
  let regex = compiled.get(key);
  if (!regex) {
    regex = new RegExp(pattern.regex, pattern.flags);
    compiled.set(key, regex);
  }
  return regex;
}

/**
 * 0 on any hit (vetoing when configured), else 1. Notes name the rule, never the matched text:
 * reward records are kept and shared, and the match may be the very secret or address.
 */
export function safetyComponent(rollout: Rollout, config: SafetyConfig): ComponentResult {
  const text = rollout.response;
  const hits: string[] = [];
  for (const category of new Set(config.categories)) {
    for (const rule of SAFETY_RULES[category]) {
      if (rule.pattern.test(text)) hits.push(`${category}/${rule.id}`);
    }
  }
  for (const pattern of config.patterns) {
    if (compile(pattern).test(text)) hits.push(`pattern/${pattern.id}`);
  }
  if (hits.length === 0) return { value: 1 };
  const named = hits.slice(0, MAX_NAMED_HITS).join(', ');
  const more = hits.length > MAX_NAMED_HITS ? ` +${hits.length - MAX_NAMED_HITS}` : '';
  return { value: 0, note: `matched ${named}${more}`, veto: config.veto };
}
