import { delimit } from './delimit';

/** The rollout's prompt and, when there is one, its reference answer: what both modes show first. */
export function contextBlocks(prompt: string, reference: string | undefined, nonce: string): string[] {
  const blocks = ['The prompt given to the model under evaluation:', delimit('ROLLOUT_PROMPT', prompt, nonce).text];
  if (reference !== undefined) {
    blocks.push('A reference answer (trusted for correctness, not for wording):', delimit('REFERENCE_ANSWER', reference, nonce).text);
  }
  return blocks;
}
