import { realpath } from 'node:fs/promises';
import { isAbsolute, posix, relative } from 'node:path';
import type { RunConfig } from '../config/run-config';
import type { ManifestLine, StepInput } from '../contract/manifest';
import { stepRolloutFile, type RunLayout } from '../contract/run-layout';
import { stepInboxName } from '../contract/step-file-names';
import { isS3Location, joinLocation, parseS3Location } from '../storage/location';
import { storeFor } from '../storage/stores';

/**
 * A step's stored input: the rollout file it was scored from, as the run keeps it after the
 * checkpoint (its inbox for updates- and service-fed runs; the trainer's file for a directory
 * source). What `rejudgeRun` judges again, and what `rollouts.keepInput: false` drops.
 */

/**
 * The step's input for its manifest line: where it is (relative to the run folder when the run
 * staged it), its size, and whether it stays; undefined when the file is not there.
 */
export async function stepInputOf(layout: RunLayout, file: string, kept: boolean): Promise<StepInput | undefined> {
  const info = await storeFor(file).stat(file);
  if (info === undefined) return undefined;
  const inside = await pathInside(layout.runDir, file);
  return { file: inside ?? file, bytes: info.size, kept };
}

/** After the checkpoint, with keepInput false: deletes the step's input if the run staged it (a trainer's own file is never the run's to delete). */
export async function dropStagedInput(layout: RunLayout, file: string): Promise<void> {
  if ((await pathInside(layout.inboxDir, file)) !== undefined) await storeFor(file).remove(file);
}

export type StoredInput = { file: string } | { missing: string };

/**
 * Finds the file step `line.step` was scored from. The manifest line names it (runs since it
 * records a step's input); for older runs, the run's inbox (a staged submission or assembled
 * requests) or, given the run's directory source, the trainer's step file. More than one
 * candidate is not guessed between: the step is named missing, with the candidates.
 */
export async function findStoredInput(layout: RunLayout, line: ManifestLine, source?: RunConfig['rollouts']): Promise<StoredInput> {
  const { step } = line;
  if (line.input) {
    const file = isAbsolute(line.input.file) || isS3Location(line.input.file) ? line.input.file : joinLocation(layout.runDir, line.input.file);
    if (await exists(file)) return { file };
    const why = line.input.kept ? 'is gone' : 'was deleted after the checkpoint (rollouts.keepInput: false)';
    return { missing: `step ${step}: its rollouts are not stored (${file} ${why})` };
  }
  const staged = await stagedInputs(layout, step);
  const candidates = [...staged, ...(source?.type === 'directory' ? [stepRolloutFile(source.path, step)] : [])];
  const found = [];
  for (const file of candidates) if (await exists(file)) found.push(file);
  if (found.length === 1) return { file: found[0]! };
  if (found.length > 1) {
    return {
      missing:
        `step ${step}: more than one stored input (${found.join(', ')}) and the run's manifest (written before it named a step's input) ` +
        'does not say which was scored: not guessed',
    };
  }
  const looked = [layout.requestsInbox(step), layout.inbox(step), ...candidates.slice(staged.length)];
  const hint = source ? '' : '; a run that read a trainer\'s directory: give its rollouts source (arbiter run rejudge reads it from the run)';
  return { missing: `step ${step}: its rollouts are not stored (looked for ${looked.join(', ')}${hint})` };
}

/** Files the run staged for the step in its inbox: its assembled requests, its inline submissions. */
async function stagedInputs(layout: RunLayout, step: number): Promise<string[]> {
  const names = await storeFor(layout.inboxDir).list(layout.inboxDir);
  const submitted = names.filter((n) => stepInboxName.isSubmitted(step, n)).map((n) => joinLocation(layout.inboxDir, n));
  return [...(names.includes(stepInboxName.requests(step)) ? [layout.requestsInbox(step)] : []), ...submitted];
}

/**
 * `file` relative to `dir` when it lies inside it, else undefined. On a filesystem symlinks are
 * resolved (prepareStep reads the resolved path); an S3 key has none, and is compared as it is.
 */
async function pathInside(dir: string, file: string): Promise<string | undefined> {
  if (isS3Location(dir) || isS3Location(file)) return keyInside(dir, file);
  const root = await realpath(dir).catch(() => dir);
  const rel = relative(root, await realpath(file).catch(() => file));
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? rel : undefined;
}

function keyInside(dir: string, file: string): string | undefined {
  if (!isS3Location(dir) || !isS3Location(file)) return undefined;
  const root = parseS3Location(dir);
  const object = parseS3Location(file);
  if (root.bucket !== object.bucket) return undefined;
  const rel = posix.relative(`/${root.key}`, `/${object.key}`);
  return rel !== '' && !rel.startsWith('..') ? rel : undefined;
}

async function exists(file: string): Promise<boolean> {
  return storeFor(file).stat(file).then(
    (info) => info !== undefined,
    () => false,
  );
}
