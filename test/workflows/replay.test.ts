import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Worker } from '@temporalio/worker';
import { describe, expect, inject, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { PATCHES } from '../../workflows/patches';
import { HISTORIES_DIR } from '../helpers/histories';
import { arbiterDataConverter } from '../../src/temporal/payload-compression';

const WORKFLOWS_DIR = fileURLToPath(new URL('../../workflows', import.meta.url));

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
    for await (const result of Worker.runReplayHistories({ workflowBundle: { codePath: inject('workflowBundlePath') }, dataConverter: arbiterDataConverter }, histories)) {
      if (result.error) failures.push(`${result.workflowId}: ${result.error.message}`);
    }
    expect(failures).toEqual([]);
  });

  it('has every patch of workflows/ in workflows/patches.ts, each taken by the history it names', async () => {
    const sources = await Promise.all(
      (await readdir(WORKFLOWS_DIR)).filter((f) => f.endsWith('.ts')).map((f) => readFile(join(WORKFLOWS_DIR, f), 'utf8')),
    );
    // Ids are named in one place: a patched('literal') would be a patch the table does not know.
    expect(sources.flatMap((text) => [...text.matchAll(/patched\('([^']+)'\)/g)].map((m) => m[1]!))).toEqual([]);
    const used = new Set(sources.flatMap((text) => [...text.matchAll(/patched\(PATCHES\.(\w+)\.id\)/g)].map((m) => m[1]!)));
    expect([...used].sort()).toEqual(Object.keys(PATCHES).sort());

    const takenBy = new Map<string, Set<string>>();
    for (const file of (await readdir(HISTORIES_DIR)).filter((f) => f.endsWith('.json'))) {
      const { history } = JSON.parse(await readFile(join(HISTORIES_DIR, file), 'utf8')) as { history: { events: HistoryEvent[] } };
      for (const event of history.events) {
        const data = event.markerRecordedEventAttributes?.details?.['patch-data']?.payloads?.[0]?.data;
        if (!data) continue;
        const { id } = JSON.parse(Buffer.from(data, 'base64').toString('utf8')) as { id: string };
        takenBy.set(id, (takenBy.get(id) ?? new Set()).add(file));
      }
    }
    // A patch no history takes is a new path the replay test never checks: record a run that takes it.
    for (const patch of Object.values(PATCHES)) expect(takenBy.get(patch.id), patch.id).toContain(patch.history);
  });
});

interface HistoryEvent {
  markerRecordedEventAttributes?: { details?: Record<string, { payloads?: { data?: string }[] }> };
}
