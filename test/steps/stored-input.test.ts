import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ManifestLine } from '../../src/contract/manifest';
import { RunLayout, stepRolloutFile } from '../../src/contract/run-layout';
import type { StepSummary } from '../../src/contract/step-summary';
import { findStoredInput } from '../../src/steps/stored-input';
import { tempDir } from '../support/fixtures';

/** A manifest line as runs wrote them before they named a step's input. */
const olderLine = (step: number): ManifestLine => ({ step, file: `steps/${step}.rewards.jsonl`, sha256: 'x', summary: {} as StepSummary });

async function touch(file: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, '{}\n');
}

describe('findStoredInput: where a checkpointed step\'s rollouts are kept', () => {
  it('takes the file the manifest line names, relative to the run folder', async () => {
    const layout = new RunLayout(await tempDir());
    await touch(layout.requestsInbox(3));
    const line = { ...olderLine(3), input: { file: 'inbox/step-000003.requests.jsonl', bytes: 3, kept: true } };
    expect(await findStoredInput(layout, line)).toEqual({ file: layout.requestsInbox(3) });
  });

  it('finds a service-fed step\'s assembled requests, or an updates-fed step\'s staged submission, in older runs', async () => {
    const layout = new RunLayout(await tempDir());
    await touch(layout.requestsInbox(1));
    await touch(layout.inboxOf(2, 'update-7'));
    await touch(layout.inboxOf(12, 'update-8')); // another step whose number starts alike
    expect(await findStoredInput(layout, olderLine(1))).toEqual({ file: layout.requestsInbox(1) });
    expect(await findStoredInput(layout, olderLine(2))).toEqual({ file: layout.inboxOf(2, 'update-7') });
  });

  it('finds a directory-fed step\'s trainer file when given the run\'s source, and says where it looked otherwise', async () => {
    const dir = await tempDir();
    const layout = new RunLayout(join(dir, 'run'));
    await touch(stepRolloutFile(join(dir, 'rollouts'), 4));
    expect(await findStoredInput(layout, olderLine(4), { type: 'directory', path: join(dir, 'rollouts'), waitTimeoutSeconds: 1 })).toEqual({
      file: stepRolloutFile(join(dir, 'rollouts'), 4),
    });
    const missing = await findStoredInput(layout, olderLine(4));
    expect(missing).toEqual({ missing: expect.stringMatching(/^step 4: its rollouts are not stored \(looked for .*step-000004\.requests\.jsonl, .*step-000004\.jsonl; a run that read a trainer's directory/) });
  });

  it('never guesses between two stored inputs of one step', async () => {
    const layout = new RunLayout(await tempDir());
    await touch(layout.inboxOf(5, 'first'));
    await touch(layout.inboxOf(5, 'second'));
    const found = await findStoredInput(layout, olderLine(5));
    expect(found).toEqual({ missing: expect.stringContaining('step 5: more than one stored input') });
  });
});
