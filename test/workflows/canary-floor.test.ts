import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultRespond } from '../support/fake-bedrock';
import { markerJudge, TEST_MODEL } from '../support/fake-bedrock-env';
import { rollout, tempDir, writeSteps } from '../support/fixtures';
import { fakeBedrockPerFile } from '../helpers/fake-bedrock-per-file';
import { maybeRecordHistory } from '../helpers/histories';
import { readRunRecords } from '../helpers/run-records';
import { withWorker } from '../helpers/temporal';
import { waitFor } from '../helpers/wait-for';
import { progressQuery, resumeUpdate, submitRolloutsUpdate } from '../../workflows/definitions';
import { rftRun } from '../../workflows/rft-run';

const GOOD = 'leaving no continuity'; // the judge passes responses that say it, and fails the rest

const rubric = {
  criteria: [
    { id: 'flags_risk', description: 'Says whether the clause is risky for the customer', weight: 2 },
    { id: 'explains_why', description: 'Explains the reason for the risk' },
  ],
};

// Starts out as a judge that knows good from bad; a test swaps in one that passes everything.
const fake = fakeBedrockPerFile({ seed: 11, latencyMs: [2, 8], respond: markerJudge(GOOD) });

/** 12 gold items, half good, half bad; some labelled as a whole, some per criterion. */
async function writeCanaryFile(dir: string): Promise<{ file: string; ids: string[] }> {
  const items = Array.from({ length: 12 }, (_, i) => {
    const good = i % 2 === 0;
    const base = rollout(`gold-${i}`);
    const response = good ? `${base.response} [gold ${i}]` : `Looks fine to me [gold ${i}]`;
    const label = i % 3 === 0 ? { criteria: { flags_risk: good, explains_why: good } } : { pass: good };
    return { id: `gold-${i}`, prompt: base.prompt, response, reference: base.reference, label };
  });
  const file = join(dir, 'canaries.jsonl');
  await writeFile(file, items.map((item) => JSON.stringify(item)).join('\n') + '\n');
  return { file, ids: items.map((item) => item.id) };
}

function stepRollouts(step: number) {
  return Array.from({ length: 5 }, (_, i) => {
    const base = rollout(`s${step}-r${i}`);
    return { ...base, response: i % 2 === 0 ? `${base.response} [s${step}-r${i}]` : `ok [s${step}-r${i}]` };
  });
}

describe('canaries in a run (real SDK client, fake Bedrock server)', () => {
  it('pause the run at the first step after the judge changes, and never reach the trainer or the rewards', async () => {
    const dir = await tempDir();
    const canary = await writeCanaryFile(dir);
    const outputDir = join(dir, 'out');
    fake.reset();
    fake.setOptions({ respond: markerJudge(GOOD) });
    const workflowId = `canary-floor-${Date.now()}`;

    await withWorker(async ({ client, taskQueue }) => {
      const handle = await client.workflow.start(rftRun, {
        taskQueue,
        workflowId,
        args: [{
          runId: 'canaries',
          steps: 4,
          rollouts: { type: 'updates' as const },
          judge: { provider: 'bedrock' as const, model: TEST_MODEL, rubric },
          chunkSize: 4,
          outputDir,
          canary: { file: canary.file, perStep: 6, floor: 0.75 },
        }],
      });
      const submit = (step: number) => handle.executeUpdate(submitRolloutsUpdate, { args: [{ step, rollouts: stepRollouts(step) }] });
      const replies = [];

      // The judge judges as it always did: every gold item right, the run goes on.
      for (const step of [1, 2]) {
        const reply = await submit(step);
        replies.push(reply);
        expect(reply.rewards!.map((r) => r.id).sort()).toEqual(stepRollouts(step).map((r) => r.id));
        expect(reply.summary.count).toBe(5);
        // Judged fresh every step (5 rollouts + 6 canaries asked), though the run caches judgements.
        expect(reply.summary.calls).toBe(11);
        expect(reply.summary.canary).toMatchObject({ n: 6, correct: 6, accuracy: 1, kappa: 1, failed: 0 });
        expect((await handle.query(progressQuery)).status).toBe('running');
      }

      // The model behind the judge changes: now it passes everything.
      fake.setOptions({ respond: defaultRespond });
      const third = await submit(3);
      replies.push(third);
      expect(third.rewards!.map((r) => r.id).sort()).toEqual(stepRollouts(3).map((r) => r.id));
      expect(third.summary.canary).toMatchObject({ n: 6, correct: 3, accuracy: 0.5, kappa: 0 });
      const paused = await waitFor(() => handle.query(progressQuery), (p) => p.status === 'paused');
      expect(paused.stepsDone).toBe(3);
      expect(paused.reason).toMatch(/^canary accuracy 50\.0% \(3 of 6 gold items judged right, κ 0\.00\) fell below canary\.floor 75\.0% at step 3/);
      expect(paused.reason).toContain('steps/000003.canary.jsonl');
      // The steps judged since the last good canaries, and the command that judges them again.
      expect(paused.reason).toMatch(
        new RegExp(`To score steps 3-3 again with a fixed judge \\(step 2 was the last with good canaries\\): arbiter run rejudge ${workflowId} --judge <file> --steps 3-3$`),
      );
      expect(paused.lastGoodCanaryStep).toBe(2);
      // The Web UI's current details name the step whose canaries fell.
      const metadata = await handle.query<{ currentDetails?: string }>('__temporal_workflow_metadata');
      expect(metadata.currentDetails).toContain('canaries (step 3): 6 judged, accuracy 50.0%, kappa 0.00');

      // People put the old judge back and resume: the run goes on as before.
      fake.setOptions({ respond: markerJudge(GOOD) });
      await handle.executeUpdate(resumeUpdate, { args: [{ note: 'judge model pinned again' }] });
      const fourth = await submit(4);
      replies.push(fourth);
      expect(fourth.summary.canary).toMatchObject({ n: 6, accuracy: 1 });
      const result = await handle.result();
      expect(result).toMatchObject({ status: 'completed', stepsDone: 4 });
      expect(result.totals.rollouts).toBe(20);

      // Nothing the trainer got back names a canary.
      const trainerText = JSON.stringify(replies.map((r) => r.rewards));
      for (const id of canary.ids) expect(trainerText).not.toContain(id);
      expect(trainerText).not.toContain('canary');
    });
    await maybeRecordHistory('canary-floor-paused-resumed', workflowId);

    const runDir = join(outputDir, 'canaries');
    const { manifest, records } = await readRunRecords(runDir);
    expect(records.map((r) => r.id).sort()).toEqual([1, 2, 3, 4].flatMap((s) => stepRollouts(s).map((r) => r.id)).sort());
    const artifacts = (await Promise.all(manifest.map((m) => readFile(join(runDir, m.file), 'utf8')))).join('');
    for (const id of canary.ids) expect(artifacts).not.toContain(id);
    expect(manifest.map((m) => m.summary.canary?.accuracy)).toEqual([1, 1, 0.5, 1]);
    // The canaries' own verdicts are kept beside the rewards, for whoever asks which ones went wrong.
    const steps = await readdir(join(runDir, 'steps'));
    expect(steps.filter((f) => f.endsWith('.canary.jsonl')).sort()).toEqual([1, 2, 3, 4].map((s) => `00000${s}.canary.jsonl`));
    const third = (await readFile(join(runDir, 'steps', '000003.canary.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    expect(third).toHaveLength(6);
    expect(third.every((c) => c.judgePass === true)).toBe(true);
    expect(third.filter((c) => c.goldPass).length).toBe(3);
  });

  it('leave a run without a canary config as it was: no canary summary, no canary files', async () => {
    const dir = await tempDir();
    const outputDir = join(dir, 'out');
    fake.reset();
    fake.setOptions({ respond: markerJudge(GOOD) });
    await withWorker(async ({ client, taskQueue }) => {
      const handle = await client.workflow.start(rftRun, {
        taskQueue,
        workflowId: `no-canary-${Date.now()}`,
        args: [{ runId: 'plain', steps: 1, rollouts: { type: 'updates' as const }, judge: { provider: 'bedrock' as const, model: TEST_MODEL, rubric }, outputDir }],
      });
      const reply = await handle.executeUpdate(submitRolloutsUpdate, { args: [{ step: 1, rollouts: stepRollouts(1) }] });
      expect(reply.summary.calls).toBe(5);
      expect(reply.summary.canary).toBeUndefined();
      expect(await handle.result()).toMatchObject({ status: 'completed', stepsDone: 1 });
    });
    const steps = await readdir(join(outputDir, 'plain', 'steps'));
    expect(steps.some((f) => f.includes('canary'))).toBe(false);
  });

  it('pause the run naming the bad line of a canary file, and go on once it is fixed', async () => {
    const dir = await tempDir();
    const canary = await writeCanaryFile(dir);
    const good = (await readFile(canary.file, 'utf8')).trim().split('\n');
    await writeFile(canary.file, [good[0], '{"id": "gold-x", "prompt": "p"}', ...good.slice(1)].join('\n') + '\n');
    await writeSteps(join(dir, 'rollouts'), 1, 3);
    const outputDir = join(dir, 'out');
    fake.reset();
    fake.setOptions({ respond: markerJudge(GOOD) });
    await withWorker(async ({ client, taskQueue }) => {
      const handle = await client.workflow.start(rftRun, {
        taskQueue,
        workflowId: `canary-bad-file-${Date.now()}`,
        args: [{
          runId: 'bad-canaries',
          steps: 1,
          rollouts: { type: 'directory' as const, path: join(dir, 'rollouts') },
          judge: { provider: 'bedrock' as const, model: TEST_MODEL, rubric },
          outputDir,
          canary: { file: canary.file, perStep: 4 },
        }],
      });
      const paused = await waitFor(() => handle.query(progressQuery), (p) => p.status === 'paused');
      expect(paused.stepsDone).toBe(0);
      expect(paused.reason).toContain(`canary.file ${canary.file} is not usable`);
      expect(paused.reason).toMatch(/line 2: response: /);

      await writeFile(canary.file, good.join('\n') + '\n');
      await handle.executeUpdate(resumeUpdate, { args: [{}] });
      const result = await handle.result();
      expect(result).toMatchObject({ status: 'completed', stepsDone: 1 });
      expect(result.lastStep!.canary).toMatchObject({ n: 4, accuracy: 1 });
    });
  });
});
