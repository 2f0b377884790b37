import { randomUUID } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ValidationItem } from '../../src/validation/dataset';
import type { ValidationInput } from '../../src/validation/validate-config';
import { validationProgressQuery } from '../../workflows/definitions';
import { judgeValidation } from '../../workflows/judge-validation';
import { fakeBedrockPerFile } from '../helpers/fake-bedrock-per-file';
import { maybeRecordHistory } from '../helpers/histories';
import { withWorker } from '../helpers/temporal';
import { bedrockJudge, rubricAnswer, writeDataset } from './harness';

const fake = fakeBedrockPerFile({ seed: 9, respond: (call) => rubricAnswer(call, (_id, response) => response.includes('[good]')) });

describe('judge validation durability', () => {
  it('judges only what is missing when the judged files survive from an earlier attempt, and reports progress', async () => {
    const items: ValidationItem[] = Array.from({ length: 30 }, (_, i) => ({ id: `d${i}`, prompt: 'Flag the risk.', response: i % 2 ? `[good] ${i}` : `bad ${i}`, human: { pass: i % 2 === 1 } }));
    const { dir, dataset } = await writeDataset(items);
    const input: ValidationInput = {
      validationId: `resume-${randomUUID()}`,
      dataset,
      outputDir: dir,
      judges: [{ name: 'j', judge: bedrockJudge({ rubric: { criteria: [{ id: 'accurate', description: 'a' }] } }) }],
      repeats: 2,
      chunkSize: 10,
      attackItems: 0,
      bootstrap: { resamples: 200 },
    };
    const first = await withWorker(async (ctx) => {
      const handle = await ctx.client.workflow.start(judgeValidation, { taskQueue: ctx.taskQueue, workflowId: `v-${randomUUID()}`, args: [input] });
      const result = await handle.result();
      // Replayed by test/workflows/replay.test.ts, so later changes to judgeValidation stay deterministic.
      await maybeRecordHistory('judge-validation-two-repeats', handle.workflowId);
      const progress = await handle.query(validationProgressQuery);
      expect(progress).toMatchObject({ phase: 'done', units: 6, unitsDone: 6, judged: 60, failed: 0, passed: true });
      return result;
    });
    expect(fake.stats.ok).toBe(60);

    // As a worker that died mid-slice leaves it: 4 of 10 judgements of one slice lost, and a torn line.
    const unitDir = join(dir, input.validationId!, 'judged', 'j');
    const [slice] = (await readdir(unitDir)).sort();
    const lines = (await readFile(join(unitDir, slice!), 'utf8')).split('\n').filter(Boolean);
    await writeFile(join(unitDir, slice!), lines.slice(0, 6).join('\n') + '\n' + lines[6]!.slice(0, 15));
    fake.reset();

    const second = await withWorker((ctx) => ctx.client.workflow.execute(judgeValidation, { taskQueue: ctx.taskQueue, workflowId: `v-${randomUUID()}`, args: [input] }));
    expect(fake.stats.ok).toBe(4);
    const [a, b] = await Promise.all([first.reportPath, second.reportPath].map(async (p) => JSON.parse(await readFile(p, 'utf8'))));
    expect(b.judges[0].human.pass).toEqual(a.judges[0].human.pass);
    expect(b.judges[0].human.pass.kappa.estimate).toBe(1);
  });

  it('refuses to mix two validations with other settings in one folder', async () => {
    const items: ValidationItem[] = [{ id: 'a', prompt: 'p', response: '[good]' }, { id: 'b', prompt: 'p', response: 'x' }];
    const { dir, dataset } = await writeDataset(items);
    const input: ValidationInput = { validationId: 'same', dataset, outputDir: dir, judges: [{ name: 'j', judge: bedrockJudge() }], repeats: 1, attackItems: 0 };
    await withWorker(async (ctx) => {
      await ctx.client.workflow.execute(judgeValidation, { taskQueue: ctx.taskQueue, workflowId: `v-${randomUUID()}`, args: [input] });
      const other = ctx.client.workflow.execute(judgeValidation, { taskQueue: ctx.taskQueue, workflowId: `v-${randomUUID()}`, args: [{ ...input, repeats: 2 }] });
      await expect(other).rejects.toMatchObject({ cause: { cause: { message: expect.stringContaining('holds another validation') } } });
    });
  });
});
