import { describe, expect, it } from 'vitest';
import { parseRunConfig } from '../../src/config/run-config';
import { readManifest } from '../../src/contract/manifest';
import { RunLayout, stepReadyFile, stepRolloutFile } from '../../src/contract/run-layout';
import { OfflineHeuristicJudge } from '../../src/judges/offline-heuristic';
import { joinLocation } from '../../src/storage/location';
import { storeFor } from '../../src/storage/stores';
import { writeCheckpoint } from '../../src/steps/checkpoint';
import { judgeChunk } from '../../src/steps/judge-chunk';
import { prepareBatch } from '../../src/steps/prepare-batch';
import { checkStepFile, endsWithNewline } from '../../src/steps/step-readiness';
import { findStoredInput } from '../../src/steps/stored-input';
import { handleOf } from '../helpers/judge-handle';
import { useS3Server } from '../helpers/s3-server';
import { rollout } from '../support/fixtures';

const s3 = useS3Server();

let n = 0;
const place = () => s3().location(`steps-${++n}`);
const lines = (ids: string[]) => ids.map((id) => JSON.stringify(rollout(id)) + '\n').join('');

describe('a trainer\'s step file in S3', () => {
  it('is checked as on a filesystem: there, whole, and as long as its marker says', async () => {
    const dir = place();
    const file = stepRolloutFile(dir, 1);
    const marker = stepReadyFile(dir, 1);
    const store = storeFor(file);
    expect(await endsWithNewline(file)).toBeUndefined();
    expect(await checkStepFile(file, marker, '')).toMatchObject({
      type: 'RolloutsMissing',
      message: `step-000001.ready is there but ${file} is not: write the step file, then the marker`,
    });

    await store.write(file, '');
    expect(await endsWithNewline(file)).toBe(true);

    await store.write(file, lines(['a', 'b']) + '{"id":"c"');
    expect(await checkStepFile(file, marker, '')).toMatchObject({ type: 'RolloutsUnterminated', message: expect.stringMatching(/^step-000001\.jsonl ends without a newline/) });

    await store.write(file, lines(['a', 'b', 'c']));
    expect(await checkStepFile(file, marker, '3\n')).toBeUndefined();
    expect(await checkStepFile(file, marker, '')).toBeUndefined();
    expect(await checkStepFile(file, marker, '4')).toMatchObject({
      type: 'RolloutsIncomplete',
      message: `step-000001.ready says 4 lines, step-000001.jsonl has 3: ${file} is not the file the trainer finished`,
    });
  });
});

describe('a step scored into a run folder in S3', () => {
  const { rewards, fallback } = parseRunConfig({ steps: 1, rollouts: { type: 'directory', path: 'x' } });

  it('is prepared, judged (resuming a torn attempt) and checkpointed with the files a filesystem run has', async () => {
    const root = place();
    const layout = new RunLayout(joinLocation(root, 'run'));
    const store = storeFor(layout.runDir);
    const source = layout.inbox(7);
    await store.write(source, lines(['r0', 'r1', 'r2', 'r3', 'r4']) + 'not json\n');

    const info = await prepareBatch({ source, layout, step: 7, chunkSize: 2 });
    expect(info).toMatchObject({ lines: 6, valid: 5, quarantined: 1, chunkCount: 3 });
    expect(await store.readText(layout.quarantine(7))).toMatch(/^\{"line":6,"error":"broken JSON/);

    const judge = handleOf(new OfflineHeuristicJudge(), 2);
    const common = { runId: 'r', rewards, fallback, layout, step: 7, judge };
    await judgeChunk({ ...common, chunk: 0 });
    // An attempt that died half-way through a line: the next one keeps the whole lines and judges the rest.
    const partial = layout.chunkRewards(7, 1, info.key);
    await judgeChunk({ ...common, chunk: 1 });
    const [first] = (await store.readText(partial))!.split('\n');
    await store.write(partial, first + '\n' + '{"id":"r3","tor');
    expect(await judgeChunk({ ...common, chunk: 1 })).toMatchObject({ count: 2, resumed: 1 });
    await judgeChunk({ ...common, chunk: 2 });

    const { entry } = await writeCheckpoint({
      layout,
      step: 7,
      chunkCount: info.chunkCount,
      quarantined: info.quarantined,
      input: { file: source, keep: false },
    });
    expect(entry).toMatchObject({ file: 'steps/000007.rewards.jsonl', input: { file: 'inbox/step-000007.jsonl', kept: false }, summary: { count: 5 } });
    const artifact = (await store.readText(layout.rewards(7)))!.trim().split('\n').map((l) => JSON.parse(l).id);
    expect(artifact.sort()).toEqual(['r0', 'r1', 'r2', 'r3', 'r4']);
    expect(await readManifest(layout.manifest)).toEqual([entry]);
    // Scratch and the staged input (keepInput false) are gone once the artifact is durable.
    expect(await store.list(layout.work(7))).toEqual([]);
    expect(await store.stat(source)).toBeUndefined();
    expect(await findStoredInput(layout, entry)).toEqual({
      missing: `step 7: its rollouts are not stored (${source} was deleted after the checkpoint (rollouts.keepInput: false))`,
    });

    const again = await writeCheckpoint({ layout, step: 7, chunkCount: info.chunkCount, quarantined: info.quarantined });
    expect(again.entry).toEqual(entry);
  }, 60_000);
});
