import type { RewardRecord } from '../contract/reward-record';
import { readStoredRollouts, storedRolloutFiles, judgedTexts } from '../versions/stored-rollouts';
import { readVersionRecords } from '../versions/version-records';
import { bestOf, groupsOf, isCandidate, pairOf, type Candidate, type Skip } from './pick-samples';
import { promptAndCompletion } from './trl-rows';

export const EXPORT_FORMATS = ['dpo', 'sft', 'rewards'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export interface ExportOptions {
  runDir: string;
  version: string;
  format: ExportFormat;
  /** dpo: a pair's rewards at least this far apart. */
  minMargin: number;
  /** sft: a group's best sample only when its reward reaches this. */
  minReward?: number;
  /** A directory-fed run's rollouts.path: the trainer's step files hold the texts. */
  rolloutsDir?: string;
  write: (row: Record<string, unknown>) => Promise<void>;
  onStep?: (progress: { step: number; done: number; total: number; rows: number }) => void;
}

export interface ExportSummary {
  format: ExportFormat;
  version: string;
  steps: number;
  rows: number;
  /** Whether prompt/completion/chosen/rejected are message lists (some rollout was a trajectory) or strings. */
  conversational: boolean;
  /** Steps left out because their texts are not stored any more (or not the ones judged): named, not guessed. */
  goneSteps: { step: number; why: string }[];
  /** Steps the manifest names whose rewards file is missing. */
  missingRewardFiles: number[];
  /** Rollouts kept out of pairs and samples by their status (the rewards format includes them, with it). */
  fallback: number;
  excluded: number;
  /** Scored rollouts whose texts were not found in an otherwise stored step. */
  textsMissing: number;
  groups: number;
  skipped: Record<Skip, number>;
}

/** Writes a version of a run as rows of one dataset format, step by step; returns what it wrote and what it left out. */
export async function exportRun(opts: ExportOptions): Promise<ExportSummary> {
  const { steps, missingFiles } = await readVersionRecords(opts.runDir, opts.version);
  const summary: ExportSummary = {
    format: opts.format,
    version: opts.version,
    steps: steps.size,
    rows: 0,
    conversational: false,
    goneSteps: [],
    missingRewardFiles: missingFiles,
    fallback: 0,
    excluded: 0,
    textsMissing: 0,
    groups: 0,
    skipped: { single: 0, 'below-margin': 0, 'below-min-reward': 0, 'prompts-differ': 0 },
  };
  const write = async (row: Record<string, unknown>) => {
    await opts.write(row);
    summary.rows++;
  };
  const files = new Map<number, string[]>();
  if (opts.format !== 'rewards') {
    for (const step of steps.keys()) files.set(step, await storedRolloutFiles(opts.runDir, step, opts.rolloutsDir));
    summary.conversational = await anyTrajectory([...files.values()]);
  }
  let done = 0;
  for (const [step, records] of steps) {
    for (const r of records) if (r.status !== 'scored') summary[r.status]++;
    if (opts.format === 'rewards') {
      for (const r of records) await write(rewardRow(r));
    } else {
      const candidates = await candidatesOf(step, records, files.get(step)!, summary);
      const promptKey = (rollout: Candidate['rollout']) => JSON.stringify(promptAndCompletion(rollout, summary.conversational).prompt);
      for (const group of groupsOf(candidates, promptKey)) {
        summary.groups++;
        const row = opts.format === 'dpo' ? pairRow(group, opts.minMargin, summary.conversational) : sftRow(group, opts.minReward, summary.conversational);
        if (typeof row === 'string') summary.skipped[row]++;
        else await write({ ...row, step });
      }
    }
    opts.onStep?.({ step, done: ++done, total: steps.size, rows: summary.rows });
  }
  return summary;
}

async function candidatesOf(step: number, records: RewardRecord[], files: string[], summary: ExportSummary): Promise<Candidate[]> {
  const scored = records.filter(isCandidate);
  if (scored.length === 0) return [];
  if (files.length === 0) {
    summary.goneSteps.push({ step, why: 'no stored rollouts (trainer step file or run inbox)' });
    return [];
  }
  const stored = await readStoredRollouts(files);
  const candidates: Candidate[] = [];
  for (const record of scored) {
    const found = judgedTexts(record, stored);
    if (found) candidates.push({ record, rollout: found.rollout });
  }
  if (candidates.length === 0) {
    summary.goneSteps.push({ step, why: `none of its ${scored.length} scored rollouts is in ${files.join(', ')} as judged` });
  } else summary.textsMissing += scored.length - candidates.length;
  return candidates;
}

async function anyTrajectory(fileLists: string[][]): Promise<boolean> {
  for (const files of fileLists) {
    for (const { rollout } of (await readStoredRollouts(files)).values()) if (rollout.messages !== undefined) return true;
  }
  return false;
}

function rewardRow(r: RewardRecord): Record<string, unknown> {
  return { id: r.id, step: r.step, reward: r.reward, status: r.status, flags: r.flags, breakdown: r.breakdown };
}

function pairRow(group: Candidate[], minMargin: number, conversational: boolean): Record<string, unknown> | Skip {
  const pair = pairOf(group, minMargin);
  if (typeof pair === 'string') return pair;
  const chosen = promptAndCompletion(pair.chosen.rollout, conversational);
  const rejected = promptAndCompletion(pair.rejected.rollout, conversational);
  // A group by the trainer's `group` field may hold different prompts: a pair must share one.
  if (JSON.stringify(chosen.prompt) !== JSON.stringify(rejected.prompt)) return 'prompts-differ';
  return {
    prompt: chosen.prompt,
    chosen: chosen.completion,
    rejected: rejected.completion,
    chosen_id: pair.chosen.record.id,
    rejected_id: pair.rejected.record.id,
    chosen_reward: pair.chosen.record.reward,
    rejected_reward: pair.rejected.record.reward,
  };
}

function sftRow(group: Candidate[], minReward: number | undefined, conversational: boolean): Record<string, unknown> | Skip {
  const best = bestOf(group, minReward);
  if (typeof best === 'string') return best;
  return { ...promptAndCompletion(best.rollout, conversational), id: best.record.id, reward: best.record.reward };
}
