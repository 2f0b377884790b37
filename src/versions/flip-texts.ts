import type { Flip } from './version-diff';
import { readStoredRollouts, storedRolloutFiles } from './stored-rollouts';

/** Adds to each flip the file and line holding its texts, where the run still stores them (read once per step). */
export async function locateFlips(runDir: string, flips: readonly Flip[], rolloutsDir?: string): Promise<Flip[]> {
  const steps = [...new Set(flips.map((f) => f.step))];
  const located = new Map<string, Flip['texts']>();
  for (const step of steps) {
    const stored = await readStoredRollouts(await storedRolloutFiles(runDir, step, rolloutsDir));
    for (const flip of flips.filter((f) => f.step === step)) {
      const found = stored.get(flip.id);
      if (found) located.set(`${step}:${flip.id}`, { file: found.file, line: found.line });
    }
  }
  return flips.map((f) => {
    const texts = located.get(`${f.step}:${f.id}`);
    return texts ? { ...f, texts } : f;
  });
}
