/**
 * What reading a run's manifest costs a checkpoint as the run grows: the manifest read whole and
 * parsed (as every checkpoint did, and as an S3 run folder still does) against read as it grows
 * (src/io/grown-file.ts: only the line the last step appended is parsed). A synthetic manifest
 * of BENCH_STEPS lines (default 1,000 and 10,000), a step line appended before each of
 * BENCH_READS reads (default 50), as checkpoints do. No Temporal needed.
 * `npm run bench:manifest`
 */
import { appendFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseManifestLine, readManifestFile } from '../src/contract/manifest';
import { envNumber, note, round, runBench } from './harness';

/** A step's manifest line of the size a checkpoint writes (its summary with tokens and cost). */
function stepLine(step: number): string {
  const summary = { step, rollouts: 256, judged: 256, rewardMean: 0.51, rewardP50: 0.5, rewardP90: 0.92, fallbackRate: 0, quarantined: 0, excluded: 0, flags: {}, tokens: { input: 412_000, output: 38_000, cacheRead: 0, cacheWrite: 0 }, costUsd: 1.8 };
  return JSON.stringify({ step, file: `rewards/step-${String(step).padStart(6, '0')}.jsonl`, sha256: 'a'.repeat(64), batch: 'b'.repeat(24), execution: { workflowId: 'bench', firstRunId: 'c'.repeat(36) }, summary }) + '\n';
}

async function wholeRead(path: string): Promise<number> {
  const text = await readFile(path, 'utf8');
  return text.split('\n').filter((l) => l.trim()).map((l, i) => parseManifestLine(path, l, i)).length;
}

runBench(async () => {
  const reads = envNumber('BENCH_READS', 50);
  const sizes = process.env.BENCH_STEPS ? [envNumber('BENCH_STEPS', 1000)] : [1000, 10_000];
  const dir = await mkdtemp(join(tmpdir(), 'arbiter-bench-manifest-'));
  const results: Record<string, { whole_ms: number; grown_ms: number; ratio: number }> = {};
  try {
    for (const steps of sizes) {
      const path = join(dir, `manifest-${steps}.jsonl`);
      const time = async (read: (path: string) => Promise<unknown>) => {
        let text = '';
        for (let s = 1; s <= steps; s++) text += stepLine(s);
        await writeFile(path, text);
        await read(path);
        let ms = 0;
        for (let r = 1; r <= reads; r++) {
          await appendFile(path, stepLine(steps + r));
          const began = performance.now();
          await read(path);
          ms += performance.now() - began;
        }
        return ms / reads;
      };
      const whole = await time(wholeRead);
      // A fresh file (another inode): the first read is whole, then each only what was appended.
      await rm(path);
      const grown = await time(readManifestFile);
      results[String(steps)] = { whole_ms: round(whole, 2), grown_ms: round(grown, 2), ratio: round(whole / grown, 1) };
      note(`${steps} steps: ${whole.toFixed(2)} ms a read whole, ${grown.toFixed(2)} ms as it grows`);
    }
    return { bench: 'manifest-read', reads, steps: results };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
