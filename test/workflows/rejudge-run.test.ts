import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { WorkflowFailedError } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { RunLayout, stepRolloutFile, versionDir } from '../../src/contract/run-layout';
import { keywordJudge } from '../helpers/keyword-judge';
import { TEST_MODEL } from '../support/fake-bedrock-env';
import { markReady, rollout, tempDir } from '../support/fixtures';
import { fakeBedrockPerFile } from '../helpers/fake-bedrock-per-file';
import { maybeRecordHistory } from '../helpers/histories';
import { readManifestLines, readRunRecords } from '../helpers/run-records';
import { withWorker } from '../helpers/temporal';
import { hashTree } from '../helpers/tree-hash';
import { progressQuery, submitRolloutsUpdate } from '../../workflows/definitions';
import { readManifest } from '../../src/contract/manifest';
import { rejudgeRun } from '../../workflows/rejudge-run';
import { rftRun } from '../../workflows/rft-run';

const KEYWORDS = { flags_risk: 'risk', names_notice: 'notice' };
const fake = fakeBedrockPerFile({ seed: 20, latencyMs: [2, 6], respond: keywordJudge(KEYWORDS) });

const LENIENT = { criteria: [{ id: 'flags_risk', description: 'Says whether the clause is risky for the customer' }] };
const STRICT = {
  criteria: [
    { id: 'flags_risk', description: 'Says whether the clause is risky for the customer' },
    { id: 'names_notice', description: 'Names the missing notice period' },
  ],
};
const STEPS = 3;
const PER_STEP = 6;

/** Three kinds of answer: names the risk and the notice, the risk only, neither. */
function responseOf(id: string, i: number): string {
  if (i % 3 === 0) return `High risk: the supplier may terminate without notice [${id}]`;
  if (i % 3 === 1) return `High risk, leaving no continuity [${id}]`;
  return `ok [${id}]`;
}

async function writeTrainerSteps(dir: string): Promise<Map<string, string>> {
  await mkdir(dir, { recursive: true });
  const texts = new Map<string, string>();
  for (let step = 1; step <= STEPS; step++) {
    const lines = Array.from({ length: PER_STEP }, (_, i) => {
      const id = `s${step}-r${i}`;
      texts.set(id, responseOf(id, i));
      return JSON.stringify(rollout(id, { response: responseOf(id, i) }));
    });
    await writeFile(stepRolloutFile(dir, step), lines.join('\n') + '\n');
    await markReady(dir, step);
  }
  return texts;
}

/** The reward the keyword judge gives `response` under `rubric` (equal weights, judge score only). */
function expectedReward(rubric: typeof STRICT, response: string): number {
  const passed = rubric.criteria.filter((c) => response.includes(KEYWORDS[c.id as keyof typeof KEYWORDS])).length;
  return passed / rubric.criteria.length;
}

describe('rejudgeRun (real dev server, fake Bedrock)', () => {
  it('a stricter rubric changes exactly the rollouts it should, into a version folder, the run folder byte-identical', async () => {
    const dir = await tempDir('arbiter-rejudge-');
    const texts = await writeTrainerSteps(join(dir, 'rollouts'));
    const outputDir = join(dir, 'out');
    const runDir = RunLayout.of(outputDir, 'lenient').runDir;
    const judge = (rubric: typeof STRICT) => ({ provider: 'bedrock' as const, model: TEST_MODEL, rubric });
    const workflowId = `rejudge-${Date.now()}`;
    fake.reset();

    await withWorker(async ({ client, taskQueue }) => {
      const run = await client.workflow.execute(rftRun, {
        taskQueue,
        workflowId: `run-${workflowId}`,
        args: [{ runId: 'lenient', steps: STEPS, rollouts: { type: 'directory', path: join(dir, 'rollouts') }, judge: judge(LENIENT), chunkSize: 4, outputDir }],
      });
      expect(run).toMatchObject({ status: 'completed', stepsDone: STEPS });
      const before = await hashTree(runDir, ['versions']);
      const paidForRun = fake.stats.requests;
      expect(paidForRun).toBe(STEPS * PER_STEP);

      const handle = await client.workflow.start(rejudgeRun, {
        taskQueue,
        workflowId,
        args: [{ runId: 'lenient', outputDir, version: 'strict', judge: judge(STRICT), chunkSize: 4 }],
      });
      const result = await handle.result();
      expect(result).toMatchObject({ status: 'completed', stepsDone: STEPS, missing: [], version: 'strict' });
      expect(result.versionDir).toBe(versionDir(runDir, 'strict'));
      // Every rollout judged once more, with the new rubric (the run's cache holds only the old one's verdicts).
      expect(fake.stats.requests - paidForRun).toBe(STEPS * PER_STEP);
      expect((await handle.query(progressQuery)).stepsDone).toBe(STEPS);

      expect(await hashTree(runDir, ['versions'])).toEqual(before);
    });
    await maybeRecordHistory('rejudge-stricter-rubric', workflowId);

    const original = await readRunRecords(runDir);
    const version = await readRunRecords(versionDir(runDir, 'strict'));
    const rewardOf = (records: typeof original.records) => new Map(records.map((r) => [r.id, r.reward]));
    const [was, now] = [rewardOf(original.records), rewardOf(version.records)];
    expect([...now.keys()].sort()).toEqual([...texts.keys()].sort());
    const shouldChange = [...texts].filter(([, t]) => expectedReward(LENIENT, t) !== expectedReward(STRICT, t)).map(([id]) => id);
    const changed = [...now.keys()].filter((id) => now.get(id) !== was.get(id));
    expect(shouldChange.length).toBe(STEPS * 2); // the risk-only answers: 1 → 0.5
    expect(changed.sort()).toEqual(shouldChange.sort());
    for (const [id, text] of texts) expect(now.get(id)).toBe(expectedReward(STRICT, text));

    // The version's manifest: what it is first, then its steps, then its end, as a run's.
    const lines = await readManifestLines(versionDir(runDir, 'strict'));
    expect(lines[0].version).toMatchObject({
      name: 'strict',
      run: 'lenient',
      judge: `bedrock:${TEST_MODEL}`,
      rubric: { criteria: ['flags_risk', 'names_notice'] },
      steps: { checkpointed: [1, 2, 3] },
    });
    expect(lines.slice(1, -1).map((l) => l.step)).toEqual([1, 2, 3]);
    expect(lines.at(-1).end).toMatchObject({ status: 'completed', stepsDone: STEPS });
    // Each step line names the rollouts it was judged from: the trainer's file the run read.
    expect(lines[1].input).toMatchObject({ file: stepRolloutFile(join(dir, 'rollouts'), 1), kept: true });
    expect(JSON.parse(await readFile(join(runDir, 'manifest.jsonl'), 'utf8').then((t) => t.split('\n')[0]!)).input.bytes).toBeGreaterThan(0);
  });
});

describe('rejudgeRun input', () => {
  it('is refused with a ConfigError naming each bad field', async () => {
    await withWorker(async ({ client, taskQueue }) => {
      const failure = (await client.workflow
        .execute(rejudgeRun, {
          taskQueue,
          workflowId: `rejudge-bad-${Date.now()}`,
          args: [{ runId: 'x', version: '../escape', judge: { provider: 'bedrock', model: TEST_MODEL, rubric: LENIENT }, steps: { from: 5, to: 2 } } as never],
        })
        .catch((err: WorkflowFailedError) => err.cause)) as ApplicationFailure;
      expect(failure).toBeInstanceOf(ApplicationFailure);
      expect(failure.type).toBe('ConfigError');
      expect(failure.message).toMatch(/^invalid rejudge input:\n  version: letters, digits/);
      expect(failure.message).toContain('steps.to: from must not be after to');
    });
  });
});

describe('rejudgeRun of an updates-fed run (offline judge)', () => {
  const rollouts = (step: number) => Array.from({ length: 4 }, (_, i) => rollout(`u${step}-r${i}`, { response: responseOf(`u${step}-r${i}`, i) }));

  it('keeps the staged inbox as stored input, names a step whose input is gone, and judges the rest', async () => {
    const dir = await tempDir('arbiter-rejudge-updates-');
    const outputDir = join(dir, 'out');
    const layout = RunLayout.of(outputDir, 'fed');
    await withWorker(async ({ client, taskQueue }) => {
      const handle = await client.workflow.start(rftRun, {
        taskQueue,
        workflowId: `fed-${Date.now()}`,
        args: [{ runId: 'fed', steps: 3, rollouts: { type: 'updates' }, outputDir }],
      });
      for (let step = 1; step <= 3; step++) await handle.executeUpdate(submitRolloutsUpdate, { args: [{ step, rollouts: rollouts(step) }] });
      expect(await handle.result()).toMatchObject({ status: 'completed', stepsDone: 3 });

      // The staged files are still there after their checkpoints, and the manifest says what they take.
      const manifest = await readManifest(layout.manifest);
      for (const line of manifest) {
        expect(line.input).toMatchObject({ kept: true });
        expect(line.input!.file).toMatch(/^inbox\/step-00000\d\.[\w-]+\.jsonl$/); // staged under the update's id
        expect(line.input!.bytes).toBe((await stat(join(layout.runDir, line.input!.file))).size);
      }
      await rm(join(layout.runDir, manifest[1]!.input!.file));
      const gone = `step 2: its rollouts are not stored (${join(layout.runDir, manifest[1]!.input!.file)} is gone)`;
      const before = await hashTree(layout.runDir, ['versions']);

      const result = await client.workflow.execute(rejudgeRun, {
        taskQueue,
        workflowId: `fed-rejudge-${Date.now()}`,
        args: [{ runId: 'fed', outputDir, version: 'weights', judge: { provider: 'offline-heuristic', mode: 'rubric', weights: { non_empty: 1, addresses_prompt: 0, matches_reference: 0 } }, steps: { from: 1, to: 4 } }],
      });
      expect(result.missing).toEqual([{ step: 2, reason: gone }]);
      expect(result.stepsDone).toBe(2);
      expect(await hashTree(layout.runDir, ['versions'])).toEqual(before);

      const lines = await readManifestLines(layout.version('weights').runDir);
      expect(lines.map((l) => l.step ?? l.missing?.step ?? Object.keys(l)[0])).toEqual(['version', 1, 2, 3, 'end']);
      expect(lines[2]).toEqual({ missing: { step: 2, reason: gone } });
      expect(lines.at(-1).end.reason).toBe(gone);
      const records = await readRunRecords(layout.version('weights').runDir);
      expect(records.records.map((r) => r.id).sort()).toEqual([...rollouts(1), ...rollouts(3)].map((r) => r.id).sort());
    });
  });

  it('with rollouts.keepInput false drops each step\'s staged file after its checkpoint, and a re-judge says so', async () => {
    const dir = await tempDir('arbiter-rejudge-dropped-');
    const outputDir = join(dir, 'out');
    const layout = RunLayout.of(outputDir, 'dropped');
    await withWorker(async ({ client, taskQueue }) => {
      const handle = await client.workflow.start(rftRun, {
        taskQueue,
        workflowId: `dropped-${Date.now()}`,
        args: [{ runId: 'dropped', steps: 1, rollouts: { type: 'updates', keepInput: false }, outputDir }],
      });
      await handle.executeUpdate(submitRolloutsUpdate, { args: [{ step: 1, rollouts: rollouts(1) }] });
      await handle.result();
      expect(await readdir(layout.inboxDir)).toEqual([]);
      const [line] = await readManifest(layout.manifest);
      expect(line!.input).toMatchObject({ kept: false });
      expect(line!.input!.file).toMatch(/^inbox\/step-000001\./);

      const result = await client.workflow.execute(rejudgeRun, {
        taskQueue,
        workflowId: `dropped-rejudge-${Date.now()}`,
        args: [{ runId: 'dropped', outputDir, version: 'again', judge: { provider: 'offline-heuristic' } }],
      });
      expect(result.stepsDone).toBe(0);
      expect(result.missing[0]!.reason).toContain('was deleted after the checkpoint (rollouts.keepInput: false)');
    });
  });
});
