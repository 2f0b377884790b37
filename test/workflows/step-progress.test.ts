import { join } from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { stepReadyFile } from '../../src/contract/run-layout';
import { cancelUpdate, pauseUpdate, progressQuery, resumeUpdate } from '../../workflows/definitions';
import type { RunProgress } from '../../workflows/progress';
import { rftRun } from '../../workflows/rft-run';
import { ArbiterStatus } from '../../workflows/search-attributes';
import { markerJudge, TEST_MODEL } from '../support/fake-bedrock-env';
import { tempDir, writeSteps } from '../support/fixtures';
import { heldActivities } from '../helpers/activity-faults';
import { fakeBedrockPerFile } from '../helpers/fake-bedrock-per-file';
import { withWorker } from '../helpers/temporal';
import { waitFor } from '../helpers/wait-for';

const fake = fakeBedrockPerFile({ seed: 11, latencyMs: [5, 30], respond: markerJudge('leaving no continuity') });

/** The Web UI's "current details", read the way the Web UI reads them. */
async function details(handle: WorkflowHandle): Promise<string> {
  const metadata = await handle.query<{ currentDetails?: string }>('__temporal_workflow_metadata');
  return metadata.currentDetails ?? '';
}

const firstLine = async (handle: WorkflowHandle) => (await details(handle)).split('\n')[0];

/** Holds chunk activities of a step until the test releases them one by one. */
function chunkGate(step: number) {
  const waiting = new Map<number, () => void>();
  return {
    interceptor: heldActivities((type, input) => {
      const i = input as { step?: number; chunk?: number };
      if (type !== 'scoreChunk' || i.step !== step || !i.chunk) return undefined; // chunk 0 runs at once
      return new Promise<void>((resolve) => waiting.set(i.chunk!, resolve));
    }),
    async release(chunk: number) {
      await waitFor(async () => waiting.has(chunk), Boolean);
      waiting.get(chunk)!();
    },
  };
}

describe('health at a glance: in-step progress and a first line in words', () => {
  it('the progress query and current details move as each chunk of a slow Bedrock judge finishes, with no event per rollout', async () => {
    const dir = await tempDir();
    const rollouts = join(dir, 'rollouts');
    await writeSteps(rollouts, 1, 8);
    fake.reset();
    const gate = chunkGate(1);
    const workflowId = `step-progress-${Date.now()}`;

    await withWorker(
      async ({ client, taskQueue }) => {
        const handle = await client.workflow.start(rftRun, {
          taskQueue,
          workflowId,
          args: [
            {
              steps: 1,
              rollouts: { type: 'directory', path: rollouts },
              judge: { provider: 'bedrock', model: TEST_MODEL, rubric: { criteria: [{ id: 'flags_risk', description: 'Says whether the clause is risky' }] } },
              chunkSize: 2,
              maxChunksInFlight: 1,
              outputDir: join(dir, 'out'),
            },
          ],
        });
        const seen: RunProgress[] = [];
        for (let done = 1; done <= 3; done++) {
          // The next chunk is held: the step can be no further than `done` chunks.
          const p = await waitFor(() => handle.query(progressQuery), (q) => q.inStep?.chunksDone === done);
          seen.push(p);
          expect(p.stepsDone).toBe(0);
          expect(p.inStep).toEqual({
            step: 1,
            phase: 'judging',
            waitingFor: undefined,
            chunks: 4,
            chunksDone: done,
            rollouts: 8,
            rolloutsJudged: 2 * done,
            fallbacks: 0,
          });
          expect(fake.stats.requests).toBe(2 * done); // judged for real, through the AWS SDK
          expect(await firstLine(handle)).toBe(`**RUNNING** step 1: ${done}/4 chunks done, ${2 * done}/8 rollouts judged (0/1 steps scored)`);
          await gate.release(done);
        }
        const result = await handle.result();
        expect(result.stepsDone).toBe(1);
        expect(seen.map((p) => p.inStep?.rolloutsJudged)).toEqual([2, 4, 6]);

        const end = await handle.query(progressQuery);
        expect(end.inStep).toBeUndefined();
        expect(await firstLine(handle)).toBe('**COMPLETED** 1/1 steps scored');

        // In-step progress rides on the activity results already in history: the only search
        // attribute upserts are the run's start, its step and its end.
        const upserts = (await handle.fetchHistory()).events!.filter((e) => e.upsertWorkflowSearchAttributesEventAttributes).length;
        expect(upserts).toBe(3);
      },
      { activityInterceptors: [gate.interceptor] },
    );
  });

  it('a step waiting for its file names it; a paused run says paused, the step and why; the Web UI search lists it', async () => {
    const dir = await tempDir();
    const rollouts = join(dir, 'rollouts');
    await writeSteps(rollouts, 1, 4);
    const ready2 = stepReadyFile(rollouts, 2);
    const workflowId = `step-waiting-${Date.now()}`;

    await withWorker(async ({ client, taskQueue }) => {
      const handle = await client.workflow.start(rftRun, {
        taskQueue,
        workflowId,
        args: [{ steps: 3, rollouts: { type: 'directory', path: rollouts }, chunkSize: 2, outputDir: join(dir, 'out') }],
      });
      const waiting = await waitFor(() => handle.query(progressQuery), (p) => p.inStep?.step === 2);
      expect(waiting.inStep).toMatchObject({ step: 2, phase: 'waiting', waitingFor: ready2 });
      expect(await firstLine(handle)).toBe(`**RUNNING** step 2: waiting for ${ready2} (1/3 steps scored)`);

      await handle.executeUpdate(pauseUpdate, { args: [{ reason: 'checking the rubric' }] });
      expect(await firstLine(handle)).toBe('**PAUSED** during step 2: checking the rubric (1/3 steps scored)');
      expect(await details(handle)).toContain(`step 2: waiting for ${ready2}`);

      // The step in progress finishes; the run then holds before the next one.
      await writeSteps(rollouts, 1, 4, 2);
      await waitFor(() => handle.query(progressQuery), (p) => p.stepsDone === 2);
      expect(await firstLine(handle)).toBe('**PAUSED** before step 3: checking the rubric (2/3 steps scored)');
      const described = await handle.describe();
      expect(described.status.name).toBe('RUNNING'); // what the Web UI's status column says
      expect(described.typedSearchAttributes.get(ArbiterStatus)).toBe('paused');

      // The Web UI search of docs/watching-and-steering.md (visibility is eventually consistent).
      const query = `ArbiterStatus = "paused" AND ExecutionStatus = "Running" AND WorkflowId = "${workflowId}"`;
      const listed = await waitFor(async () => {
        const ids: string[] = [];
        for await (const w of client.workflow.list({ query })) ids.push(w.workflowId);
        return ids;
      }, (ids) => ids.length === 1);
      expect(listed).toEqual([workflowId]);

      await handle.executeUpdate(resumeUpdate, { args: [{}] });
      await waitFor(() => handle.query(progressQuery), (p) => p.inStep?.step === 3);
      expect(await firstLine(handle)).toBe(`**RUNNING** step 3: waiting for ${stepReadyFile(rollouts, 3)} (2/3 steps scored)`);
      await writeSteps(rollouts, 1, 4, 3);
      await handle.result();
      expect((await handle.describe()).typedSearchAttributes.get(ArbiterStatus)).toBe('completed');
    });
  });

  it('a run fed by updates says it waits for one; a cancelled run says so first, though Temporal shows it Completed', async () => {
    const dir = await tempDir();
    const workflowId = `step-update-wait-${Date.now()}`;
    await withWorker(async ({ client, taskQueue }) => {
      const handle = await client.workflow.start(rftRun, {
        taskQueue,
        workflowId,
        args: [{ steps: 2, rollouts: { type: 'updates' }, outputDir: join(dir, 'out') }],
      });
      const waiting = await waitFor(() => handle.query(progressQuery), (p) => p.inStep !== undefined);
      expect(waiting.inStep).toMatchObject({ step: 1, phase: 'waiting', waitingFor: 'a submitRollouts or submitRequests update for step 1' });
      expect(await firstLine(handle)).toBe('**RUNNING** step 1: waiting for a submitRollouts or submitRequests update for step 1 (0/2 steps scored)');

      await handle.executeUpdate(cancelUpdate, { args: [{ mode: 'finish-step', reason: 'trainer crashed' }] });
      const result = await handle.result();
      expect(result.status).toBe('cancelled');
      expect((await handle.describe()).status.name).toBe('COMPLETED');
      expect(await firstLine(handle)).toBe('**CANCELLED** after 0/2 steps scored: trainer crashed');
      expect((await handle.describe()).typedSearchAttributes.get(ArbiterStatus)).toBe('cancelled');
    });
  });
});
