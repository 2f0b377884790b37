import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stepRolloutFile } from '../../src/contract/run-layout';
import { markReady, rollout, tempDir } from '../support/fixtures';
import { readRunRecords } from '../helpers/run-records';
import { withWorker } from '../helpers/temporal';
import { rftRun } from '../../workflows/rft-run';

describe('a run judged by the offline heuristic in preference mode', () => {
  it('rewards win rates, and turns its first-shown tie-break into ties flagged inconsistent', async () => {
    const dir = await tempDir();
    const rolloutsDir = join(dir, 'rollouts');
    await mkdir(rolloutsDir, { recursive: true });
    // Per group: one answer matching the reference, two one-word answers the rules score alike.
    const lines = ['g1', 'g2'].flatMap((g) => [
      rollout(`${g}-good`, { group: g }),
      rollout(`${g}-fine`, { group: g, response: 'Fine.' }),
      rollout(`${g}-looks`, { group: g, response: 'Looks fine.' }),
    ]);
    await writeFile(stepRolloutFile(rolloutsDir, 1), lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
    await markReady(rolloutsDir, 1);
    const outputDir = join(dir, 'out');

    await withWorker(({ client, taskQueue }) =>
      client.workflow.execute(rftRun, {
        taskQueue,
        workflowId: `offline-pref-${Date.now()}`,
        args: [{
          runId: 'offline-pref',
          steps: 1,
          rollouts: { type: 'directory' as const, path: rolloutsDir },
          judge: { provider: 'offline-heuristic' as const, mode: 'preference' as const },
          chunkSize: 3,
          outputDir,
        }],
      }),
    );
    const { records, manifest } = await readRunRecords(join(outputDir, 'offline-pref'));
    // 3 pairs per group, one verdict per order each.
    expect(manifest[0]!.summary.calls).toBe(2 * 3 * 2);
    const byId = new Map(records.map((r) => [r.id, r]));
    for (const g of ['g1', 'g2']) {
      expect(byId.get(`${g}-good`)).toMatchObject({ status: 'scored', reward: 1, flags: [] });
      for (const weak of [`${g}-fine`, `${g}-looks`]) {
        expect(byId.get(weak)).toMatchObject({ status: 'scored', reward: 0.25, flags: ['inconsistent'] });
      }
    }
    expect(records.every((r) => r.judge.provider === 'offline-heuristic' && r.judge.model.includes('not an LLM'))).toBe(true);
  });
});
