import { describe, expect, it } from 'vitest';
import { ValidationInputSchema } from '../../src/validation/validate-config';
import { parseOrThrow } from '../../src/config/validation-error';

describe('validation config', () => {
  it('refuses judge.sharedQuota, naming the judge, rather than dropping it', () => {
    const input = {
      dataset: 'd.jsonl',
      judges: [
        { name: 'offline', judge: { provider: 'offline-heuristic' } },
        {
          name: 'sonnet',
          judge: { provider: 'bedrock', model: 'm', rubric: { criteria: [{ id: 'c', description: 'd' }] }, sharedQuota: { taskQueue: 'acct-a' } },
        },
      ],
    };
    let issues: string[] = [];
    expect(() =>
      parseOrThrow(ValidationInputSchema, input, (found) => {
        issues = found;
        return new Error('invalid');
      }),
    ).toThrow('invalid');
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatch(/^judges\.1\.judge\.sharedQuota: not used by judge validation/);
  });
});
