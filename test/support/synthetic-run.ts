import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RewardRecord } from '../../src/contract/reward-record';
import { RunLayout } from '../../src/contract/run-layout';
import { StepStats } from '../../src/steps/step-summary';
import type { ReportStepSummary } from '../../src/report/report-data';
import { stepResultName } from '../../src/contract/step-file-names';

/**
 * Writes a run folder as the checkpoint does (rewards files and manifest lines with StepStats
 * summaries), with what other changes add to summaries (prompt-cache tokens, canaries) so the
 * report's optional charts have data. Rewards rise with step and with length, deliberately.
 */
export async function writeSyntheticRun(runDir: string, opts: { steps: number; perStep: number; legacy?: boolean }): Promise<RewardRecord[][]> {
  const layout = new RunLayout(runDir);
  await mkdir(join(runDir, 'steps'), { recursive: true });
  const manifest: string[] = [];
  const all: RewardRecord[][] = [];
  for (let step = 1; step <= opts.steps; step++) {
    const stats = new StepStats();
    const records: RewardRecord[] = [];
    for (let i = 0; i < opts.perStep; i++) {
      const failed = i % 7 === 3;
      const chars = 40 + ((i * 37 + step * 11) % 400);
      const reward = failed ? 0.5 : Math.min(1, 0.2 + step * 0.05 + chars / 1000);
      const record: RewardRecord = {
        id: `s${step}-r${i}`,
        step,
        reward,
        status: failed ? 'fallback' : 'scored',
        breakdown: failed ? { length: chars / 500 } : { judge: reward, length: chars / 500 },
        judge: {
          provider: 'bedrock',
          model: 'anthropic.claude-test',
          rationale: 'because',
          attempts: 1,
          inputTokens: 900,
          outputTokens: 120,
          latencyMs: 10,
          ...(failed
            ? { failure: { reason: i % 2 === 0 ? 'throttled' : 'parse', message: 'x' } }
            : !opts.legacy && {
                criteria: [
                  { id: 'accurate', pass: i % 3 !== 0, evidence: 'e' },
                  { id: 'cites-clause', pass: i % 5 < step % 5, evidence: 'e' },
                ],
              }),
        },
        flags: failed ? ['fallback:x'] : [],
        ...(!opts.legacy && { responseChars: chars }),
      };
      records.push(record);
      stats.add(record);
    }
    all.push(records);
    await writeFile(layout.rewards(step), records.map((r) => JSON.stringify(r) + '\n').join(''));
    const summary: ReportStepSummary = stats.summary(step, step % 3 === 0 ? 2 : 0, { inputPerMTok: 3, outputPerMTok: 15 });
    if (opts.legacy) delete summary.reward.p10;
    else {
      summary.cacheReadInputTokens = 700 * opts.perStep;
      summary.cacheWriteInputTokens = step === 1 ? 700 : 0;
      const correct = 16 + ((step * 7) % 4);
      summary.canary = { n: 20, correct, accuracy: correct / 20, kappa: 0.4 + ((step * 3) % 10) / 20, failed: 0, criteria: {} };
    }
    manifest.push(JSON.stringify({ step, file: `steps/${stepResultName.rewards(step)}`, sha256: 'x', summary }));
  }
  await writeFile(layout.manifest, manifest.join('\n') + '\n');
  return all;
}
