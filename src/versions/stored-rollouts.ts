import { RolloutSchema, type Rollout } from '../config/rollout';
import type { RewardRecord } from '../contract/reward-record';
import { RunLayout, stepRolloutFile } from '../contract/run-layout';
import { stepInboxName } from '../contract/step-file-names';
import { joinLocation, parentOf } from '../storage/location';
import { storeFor } from '../storage/stores';

/** A rollout's texts as the run stored them, and where: the file and its line. */
export interface StoredRollout {
  rollout: Rollout;
  file: string;
  line: number;
}

/**
 * The files that may hold step `step`'s rollouts, those that exist: the trainer's step file in a
 * directory source (`rolloutsDir`, the run config's rollouts.path), and what the run staged in its
 * inbox (an updates-fed run's submitted files, whole or under an update's tag, a service-fed
 * run's assembled requests).
 */
export async function storedRolloutFiles(runDir: string, step: number, rolloutsDir?: string): Promise<string[]> {
  const layout = new RunLayout(runDir);
  const files: string[] = [];
  if (rolloutsDir !== undefined) files.push(stepRolloutFile(rolloutsDir, step));
  const inbox = parentOf(layout.inbox(step));
  const names = await storeFor(inbox).list(inbox);
  // A tagged submission is `step-NNNNNN.<tag>.jsonl`: the untagged name without its extension, then a dot.
  const whole = stepInboxName.submitted(step);
  const tagged = whole.replace(/\.jsonl$/, '.');
  for (const name of names) {
    if (name === whole || name === stepInboxName.requests(step) || (name.startsWith(tagged) && name.endsWith('.jsonl'))) {
      files.push(joinLocation(inbox, name));
    }
  }
  const present: string[] = [];
  for (const file of files) if (await readable(file)) present.push(file);
  return present;
}

/** The step's stored rollouts by id (the first file and line that has an id wins); lines that are not rollouts are skipped, as the step skipped them. */
export async function readStoredRollouts(files: readonly string[]): Promise<Map<string, StoredRollout>> {
  const byId = new Map<string, StoredRollout>();
  for (const file of files) {
    for await (const raw of storeFor(file).readLines(file)) {
      if ('error' in raw || raw.text.trim() === '') continue;
      let json: unknown;
      try {
        json = JSON.parse(raw.text);
      } catch {
        continue;
      }
      const parsed = RolloutSchema.safeParse(json);
      if (parsed.success && !byId.has(parsed.data.id)) byId.set(parsed.data.id, { rollout: parsed.data, file, line: raw.lineNumber });
    }
  }
  return byId;
}

/**
 * The stored texts of a judged rollout, if they are the ones judged: a record that kept the
 * response's length must find a response of that length, else the file was rewritten since and
 * its texts are not guessed to be the judged ones.
 */
export function judgedTexts(record: RewardRecord, stored: ReadonlyMap<string, StoredRollout>): StoredRollout | undefined {
  const found = stored.get(record.id);
  if (!found) return undefined;
  if (record.responseChars !== undefined && found.rollout.response.length !== record.responseChars) return undefined;
  return found;
}

async function readable(file: string): Promise<boolean> {
  return (await storeFor(file).stat(file)) !== undefined;
}
