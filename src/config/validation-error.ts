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

/**
 * The parsed value, or an error listing each bad field: a ConfigError about `what`, or the
 * error `fail` makes of the issue lines where a ConfigError is not what the caller's callers expect.
 */
export function parseOrThrow<S extends z.ZodType>(schema: S, value: unknown, fail: string | ((issues: string[]) => Error)): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issues = describeZodIssues(parsed.error);
  throw typeof fail === 'string' ? new ConfigError(fail, issues) : fail(issues);
}
