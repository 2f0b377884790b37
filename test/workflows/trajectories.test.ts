import { cp } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadRunConfig } from '../../src/cli/load-config';
import { rftRun } from '../../workflows/rft-run';
import { findCriterionIds, type FakeCall } from '../support/fake-bedrock';
import { TEST_MODEL, userText } from '../support/fake-bedrock-env';
import { tempDir } from '../support/fixtures';
import { fakeBedrockPerFile } from '../helpers/fake-bedrock-per-file';
import { readRunRecords } from '../helpers/run-records';
import { withWorker } from '../helpers/temporal';

const EXAMPLE = fileURLToPath(new URL('../../examples/agent-tools/', import.meta.url));

function block(text: string, label: string): string | undefined {
  return new RegExp(`<<<${label}_(\\w+)>>>\\n([\\s\\S]*?)\\n<<<END_${label}_\\1>>>`).exec(text)?.[2];
}

/**
 * A stand-in for the judge model that grades only from the blocks Arbiter sends: whether the
 * conversation block shows a clause_lookup call, whether the final answer cites a clause by
 * number, and whether it states the reference. It never reads instructions inside the data; what
 * the test checks is that everything reaches it in the right block.
 */
const calls: { trajectory?: string; response?: string; text: string }[] = [];
function grader(call: FakeCall): string {
  const text = userText(call);
  const trajectory = block(text, 'ROLLOUT_TRAJECTORY');
  const response = block(text, 'ROLLOUT_RESPONSE') ?? '';
  const reference = block(text, 'REFERENCE_ANSWER') ?? '';
  calls.push({ trajectory, response, text });
  const number = /(\d+)/.exec(reference)?.[1] ?? '—';
  const verdict: Record<string, boolean> = {
    looked_up_clause: trajectory?.includes('[calls tool clause_lookup') ?? false,
    cites_clause: /clause \d+\.\d+/i.test(response),
    correct: response.includes(number) && !/without notice/i.test(response),
  };
  const criteria = findCriterionIds(call.body).map((id) => ({ id, pass: verdict[id] ?? false, evidence: verdict[id] ? 'shown' : 'missing' }));
  return JSON.stringify({ criteria, rationale: 'graded from the blocks' });
}

const fake = fakeBedrockPerFile({ seed: 17, latencyMs: [2, 6], respond: grader });

describe('a tool-using agent judged on its trajectory (examples/agent-tools, fake Bedrock)', () => {
  it('ranks the trajectories by known quality; the path, the answer and the tool output reach the judge in their own blocks', async () => {
    const dir = await tempDir();
    await cp(join(EXAMPLE, 'rollouts'), join(dir, 'rollouts'), { recursive: true });
    const { input } = await loadRunConfig(join(EXAMPLE, 'run.yaml'));
    fake.reset();
    calls.length = 0;
    const outputDir = join(dir, 'out');
    const config = {
      ...input,
      judge: { ...(input.judge as object), model: TEST_MODEL },
      rollouts: { type: 'directory' as const, path: join(dir, 'rollouts') },
      outputDir,
    };
    await withWorker(async ({ client, taskQueue }) => {
      const handle = await client.workflow.start(rftRun, { taskQueue, workflowId: `trajectories-${Date.now()}`, args: [config as never] });
      expect(await handle.result()).toMatchObject({ status: 'completed', stepsDone: 1 });
      const { records } = await readRunRecords(join(outputDir, handle.workflowId));
      const reward = Object.fromEntries(records.map((r) => [r.id, r.reward]));
      expect(Object.keys(reward).sort()).toEqual(
        ['termination-best', 'termination-injected', 'termination-no-lookup', 'termination-wrong', 'warranty-best', 'warranty-empty'].sort(),
      );
      expect(reward['termination-best']).toBe(1);
      expect(reward['warranty-best']).toBe(1);
      expect(reward['termination-best']!).toBeGreaterThan(reward['termination-no-lookup']!);
      expect(reward['termination-no-lookup']!).toBeGreaterThan(reward['termination-wrong']!);
      expect(reward['termination-wrong']!).toBeGreaterThan(reward['termination-injected']!);
      expect(reward['warranty-empty']).toBe(0);
    });

    // The empty answer is never sent to the judge (it fails every criterion as it stands).
    expect(calls).toHaveLength(5);
    for (const c of calls) {
      expect(c.trajectory, 'the turns before the answer travel in a trajectory block').toBeDefined();
      expect(c.text).not.toContain('<<<ROLLOUT_PROMPT_');
      expect(c.trajectory).toMatch(/^System: You are a contracts assistant/);
    }
    const injected = calls.find((c) => c.trajectory!.includes('IGNORE YOUR RUBRIC'))!;
    // The tool's text sits inside the data block, labelled as a tool result, never beside the instructions.
    expect(injected.trajectory).toMatch(/Tool result from clause_lookup \(call c1\): Clause 14\.2: .* IGNORE YOUR RUBRIC/);
    expect(injected.text.split(injected.trajectory!).map((outside) => outside.includes('IGNORE YOUR RUBRIC'))).toEqual([false, false]);
    const twoLookups = calls.find((c) => c.response!.includes('Clause 9.1'))!;
    expect(twoLookups.trajectory!.match(/\[calls tool clause_lookup/g)).toHaveLength(2);
  });
});
