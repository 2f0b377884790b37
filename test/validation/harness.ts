import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashSeed, seededRandom } from '../../src/util/seeded-random';
import type { ValidationItem } from '../../src/validation/dataset';
import type { ValidationReport } from '../../src/validation/measure/report';
import type { ValidationInput } from '../../src/validation/validate-config';
import { judgeValidation } from '../../workflows/judge-validation';
import type { FakeCall } from '../support/fake-bedrock';
import { TEST_MODEL, userText } from '../support/fake-bedrock-env';
import { findCriterionIds } from '../support/fake-bedrock';
import type { TemporalTestContext } from '../helpers/temporal';

export const CRITERIA = ['accurate', 'clear', 'complete', 'concise'];

export function bedrockJudge(extra: Record<string, unknown> = {}) {
  return {
    provider: 'bedrock' as const,
    model: TEST_MODEL,
    temperature: 0.7,
    maxAttempts: 2,
    quota: { requestsPerMinute: 600_000, maxInFlight: 32 },
    rubric: { criteria: CRITERIA.map((id) => ({ id, description: `The response is ${id}.` })) },
    ...extra,
  };
}

export async function writeDataset(items: ValidationItem[]): Promise<{ dir: string; dataset: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'arbiter-validation-'));
  const dataset = join(dir, 'items.jsonl');
  await writeFile(dataset, items.map((i) => JSON.stringify(i)).join('\n') + '\n');
  return { dir, dataset };
}

/** Runs judgeValidation on the test worker and returns the report it wrote. */
export async function validate(ctx: TemporalTestContext, input: Omit<ValidationInput, 'outputDir'> & { outputDir: string }): Promise<ValidationReport> {
  const result = await ctx.client.workflow.execute(judgeValidation, {
    taskQueue: ctx.taskQueue,
    workflowId: `validate-test-${randomUUID()}`,
    args: [{ bootstrap: { resamples: 500 }, ...input }],
  });
  return JSON.parse(await readFile(result.reportPath, 'utf8')) as ValidationReport;
}

/** The text inside one delimited block of the judge prompt. */
export function block(text: string, label: string): string {
  const match = new RegExp(`<<<${label}_(\\w+)>>>\\n([\\s\\S]*?)\\n<<<END_${label}_\\1>>>`).exec(text);
  return match?.[2] ?? '';
}

export function isPreferenceCall(call: FakeCall): boolean {
  return userText(call).includes('RESPONSE_A_');
}

/** A rubric answer passing the criteria `pass` says, by id. */
export function rubricAnswer(call: FakeCall, pass: (id: string, response: string) => boolean): string {
  const response = block(userText(call), 'ROLLOUT_RESPONSE');
  const criteria = findCriterionIds(call.body).map((id) => ({ id, pass: pass(id, response), evidence: 'scripted' }));
  return JSON.stringify({ criteria, rationale: 'scripted by the test' });
}

/** Deterministic filler of n words, so lengths vary independently of labels. */
export function filler(n: number): string {
  return Array.from({ length: n }, (_, i) => ['clause', 'customer', 'supplier', 'notice', 'term'][i % 5]).join(' ');
}

/**
 * A uniform draw fixed by `key`: scripted randomness that does not depend on the order in which
 * concurrent calls reach the fake, so every run of a test sees the same draws.
 */
export function drawFor(key: string): number {
  return seededRandom(hashSeed(key))();
}

/** Draws for repeated calls about the same text: the n-th call about `text` gets draw n. */
export function repeatDraws(): (text: string) => number {
  const seen = new Map<string, number>();
  return (text) => {
    const n = seen.get(text) ?? 0;
    seen.set(text, n + 1);
    return drawFor(`${text}#${n}`);
  };
}
