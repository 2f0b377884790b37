import { createHash } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { relative } from 'node:path';
import { z } from 'zod';
import { RewardRecordSchema } from '../config/reward-record';
import { writeFileAtomic } from '../io/atomic-write';
import { AtomicJsonlWriter } from '../io/jsonl-writer';
import { readLines } from '../io/read-lines';
import type { RunLayout } from '../run-layout';
import { StepStats, type StepSummary } from './step-summary';

export interface ManifestLine {
  step: number;
  file: string;
  sha256: string;
  summary: StepSummary;
}

const ManifestLineSchema = z.object({
  step: z.number().int(),
  file: z.string(),
  sha256: z.string(),
  summary: z.custom<StepSummary>((v) => typeof v === 'object' && v !== null),
});

/**
 * Makes a step durable: joins the chunk results into `steps/NNNNNN.rewards.jsonl` and records
 * it in `manifest.jsonl` with its sha256, both by write-then-rename. Running it twice for a
 * step leaves one artifact and one manifest line, so retries and replays are harmless.
 */
export async function checkpointStep(args: {
  layout: RunLayout;
  step: number;
  chunkCount: number;
  quarantined: number;
}): Promise<ManifestLine> {
  const { layout, step } = args;
  const manifest = await readManifest(layout.manifest);
  const already = manifest.find((m) => m.step === step);
  if (already && (await sha256Of(layout.rewards(step))) === already.sha256) return already;

  const out = new AtomicJsonlWriter(layout.rewards(step));
  const hash = createHash('sha256');
  const stats = new StepStats();
  try {
    for (let chunk = 0; chunk < args.chunkCount; chunk++) {
      for await (const line of readLines(layout.chunkRewards(step, chunk))) {
        if ('error' in line) throw new Error(`chunk ${chunk} of step ${step} has a corrupt line ${line.lineNumber}`);
        if (!line.text) continue;
        const record = RewardRecordSchema.parse(JSON.parse(line.text));
        stats.add(record);
        const text = JSON.stringify(record) + '\n';
        hash.update(text);
        await out.write(record);
      }
    }
    await out.commit();
  } catch (err) {
    await out.abort();
    throw err;
  }

  const entry: ManifestLine = {
    step,
    file: relative(layout.runDir, layout.rewards(step)),
    sha256: hash.digest('hex'),
    summary: stats.summary(step, args.quarantined),
  };
  const others = manifest.filter((m) => m.step !== step);
  const lines = [...others, entry].sort((a, b) => a.step - b.step);
  await writeFileAtomic(layout.manifest, lines.map((l) => JSON.stringify(l) + '\n').join(''));
  // The batch copy and partial files are only scratch once the artifact is durable.
  await rm(layout.work(step), { recursive: true, force: true });
  return entry;
}

export async function readManifest(path: string): Promise<ManifestLine[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return text
    .split('\n')
    .filter((l) => l.trim())
    .map((l, i) => {
      const parsed = ManifestLineSchema.safeParse(JSON.parse(l));
      if (!parsed.success) throw new Error(`${path}:${i + 1}: not a manifest line`);
      return parsed.data;
    });
}

async function sha256Of(path: string): Promise<string | undefined> {
  try {
    return createHash('sha256').update(await readFile(path)).digest('hex');
  } catch {
    return undefined;
  }
}
