import type { z } from 'zod';

/**
 * Turns a zod error into lines that name the offending field, e.g.
 * `judge.model: expected string, received undefined`. Users fix configs
 * field by field; a stack of nested union messages helps nobody.
 */
export function describeZodIssues(error: z.ZodError): string[] {
  return error.issues.map((issue) => {
    const path = issue.path.length > 0 ? issue.path.map(String).join('.') : '(root)';
    return `${path}: ${issue.message}`;
  });
}

export class ConfigError extends Error {
  readonly issues: string[];
  constructor(what: string, issues: string[]) {
    super(`invalid ${what}:\n  ${issues.join('\n  ')}`);
    this.name = 'ConfigError';
    this.issues = issues;
  }
}
