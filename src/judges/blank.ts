// \s does not cover zero-width characters, which render as nothing all the same.
const BLANK = /^[\s\u200b-\u200d\u2060\ufeff]*$/u;

/** A response with nothing to judge: every judge decides it without asking the model. */
export function isBlank(response: string): boolean {
  return BLANK.test(response);
}
