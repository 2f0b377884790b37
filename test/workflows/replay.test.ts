import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Worker } from '@temporalio/worker';
import { describe, expect, inject, it } from 'vitest';
import { HISTORIES_DIR } from '../helpers/histories';

/**
 * The determinism guard: histories recorded from earlier runs (see maybeRecordHistory) must
 * replay against the workflow code as it is now, or running workflows would break on deploy.
 */
describe('replay of recorded run histories', () => {
  it('replays every history in test/histories without nondeterminism', async () => {
    const files = (await readdir(HISTORIES_DIR)).filter((f) => f.endsWith('.json')).sort();
    expect(files.length).toBeGreaterThan(0);
    const histories = await Promise.all(
      files.map(async (file) => JSON.parse(await readFile(join(HISTORIES_DIR, file), 'utf8')) as { workflowId: string; history: unknown }),
    );
    const failures: string[] = [];
    for await (const result of Worker.runReplayHistories({ workflowBundle: { codePath: inject('workflowBundlePath') } }, histories)) {
      if (result.error) failures.push(`${result.workflowId}: ${result.error.message}`);
    }
    expect(failures).toEqual([]);
  });
});
