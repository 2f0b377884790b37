/**
 * Bump on ANY change to the judge prompt templates, output formats or re-ask wording:
 * it is part of `rubricHash`, so cached verdicts from older prompts stop matching.
 */
export const PROMPT_VERSION = 'arbiter-judge-prompts/1';
