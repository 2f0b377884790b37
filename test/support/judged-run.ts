import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Rollout } from '../../src/config/rollout';
import { parseRunConfig } from '../../src/config/run-config';
import { RunLayout, stepRolloutFile } from '../../src/contract/run-layout';
import { rewardSource } from '../../src/contract/reward-version';
import type { Judge, Judgement } from '../../src/judges/judge';
import { writeCheckpoint } from '../../src/steps/checkpoint';
import { judgeChunk } from '../../src/steps/judge-chunk';
import { prepareBatch } from '../../src/steps/prepare-batch';
import { handleOf } from '../helpers/judge-handle';

/**
 * A run with two reward versions, judged by the real step machinery (prepareBatch, judgeChunk,
 * writeCheckpoint) with a rubric judge of our own whose verdicts the tests can compute by hand:
 * a criterion passes when the response carries its marker. `original` judges accurate ([acc]) and
 * concise ([con]); `strict` adds cites ([cite]) and reads concise strictly ([con] but not [long],
 * or [short]). [failA]/[failB] make that version's judge fail: a fallback (neutral 0.5) in step 1,
 * and in step 2 of `strict` an exclusion (fallback policy exclude). Score = share of criteria passed.
 */
export const JUDGED_RUN_RESPONSES: Record<number, [id: string, prompt: string, markers: string][]> = {
  1: [
    ['s1-a', 'P1', '[acc] [con] [cite]'],
    ['s1-b', 'P1', '[acc] [con]'],
    ['s1-c', 'P1', '[acc]'],
    ['s1-d', 'P1', '[con] [long]'],
    ['s1-e', 'P2', '[acc] [con] [failB]'],
    ['s1-f', 'P2', '[cite] [short]'],
  ],
  2: [
    ['s2-a', 'P3', '[acc] [con] [cite]'],
    ['s2-b', 'P3', '[acc] [cite]'],
    ['s2-c', 'P3', '[failA] [acc] [con]'],
    ['s2-d', 'P3', '[con] [cite] [failB]'],
  ],
};

class MarkerJudge implements Judge {
  readonly provider = 'marker-judge';
  constructor(readonly model: 'original' | 'strict') {}
  async judge(rollout: Rollout): Promise<Judgement> {
    const r = rollout.response;
    const cost = { usage: { inputTokens: 10, outputTokens: 2 }, latencyMs: 1, attempts: 1 };
    if (r.includes(this.model === 'original' ? '[failA]' : '[failB]')) return { ok: false, reason: 'server', message: 'HTTP 500', retryable: false, ...cost };
    const criteria = [
      { id: 'accurate', pass: r.includes('[acc]') },
      { id: 'concise', pass: this.model === 'original' ? r.includes('[con]') : (r.includes('[con]') && !r.includes('[long]')) || r.includes('[short]') },
      ...(this.model === 'strict' ? [{ id: 'cites', pass: r.includes('[cite]') }] : []),
    ].map((c) => ({ ...c, evidence: c.pass ? 'marker found' : 'no marker' }));
    const score = criteria.filter((c) => c.pass).length / criteria.length;
    return { ok: true, score, rationale: `${criteria.filter((c) => c.pass).length}/${criteria.length}`, criteria, ...cost };
  }
}

const PROMPTS: Record<string, string> = {
  P1: 'Flag the legal risk of this clause: the supplier may terminate at any time.',
  P2: 'Summarise the indemnity clause in one sentence.',
  P3: 'Is a 90-day payment term unusual for a services contract?',
};

/** The rollout as the trainer sent it: plain, or (trajectories) a system and user turn, a tool call and its result, the answer. */
function rolloutLine(id: string, prompt: string, markers: string, trajectories: boolean): Record<string, unknown> {
  const response = `Answer ${id}: ${markers}`;
  if (!trajectories) return { id, prompt: PROMPTS[prompt], response };
  return {
    id,
    messages: [
      { role: 'system', content: 'You review contracts.' },
      { role: 'user', content: PROMPTS[prompt] },
      { role: 'assistant', content: null, tool_calls: [{ id: `call-${id}`, type: 'function', function: { name: 'lookup_clause', arguments: '{"clause":"7.2"}' } }] },
      { role: 'tool', tool_call_id: `call-${id}`, content: 'Clause 7.2: either party may terminate.' },
      { role: 'assistant', content: response },
    ],
  };
}

export interface JudgedRun {
  runDir: string;
  /** The directory source's rollouts.path (plain runs); trajectory runs keep their rollouts in the run's inbox, as an updates-fed run does. */
  rolloutsDir?: string;
}

/** Writes `<dir>/runs/judged` with versions `original` and `strict` (see JUDGED_RUN_RESPONSES). */
export async function writeJudgedRun(dir: string, opts: { trajectories?: boolean } = {}): Promise<JudgedRun> {
  const runDir = join(dir, 'runs', 'judged');
  const rolloutsDir = opts.trajectories ? undefined : join(dir, 'rollouts');
  const layout = new RunLayout(runDir);
  for (const [stepText, rows] of Object.entries(JUDGED_RUN_RESPONSES)) {
    const step = Number(stepText);
    const source = rolloutsDir ? stepRolloutFile(rolloutsDir, step) : layout.inbox(step);
    await mkdir(join(source, '..'), { recursive: true });
    await writeFile(source, rows.map(([id, prompt, markers]) => JSON.stringify(rolloutLine(id, prompt, markers, opts.trajectories === true)) + '\n').join(''));
    for (const version of ['original', 'strict'] as const) {
      const config = parseRunConfig({ steps: 2, rollouts: { type: 'directory', path: 'x' }, fallback: { policy: version === 'strict' && step === 2 ? 'exclude' : 'neutral' } });
      const target = rewardSource(runDir, version);
      const info = await prepareBatch({ source, layout: target, step, chunkSize: 4 });
      const judge = handleOf(new MarkerJudge(version), 2);
      for (let chunk = 0; chunk < info.chunkCount; chunk++) {
        await judgeChunk({ layout: target, runId: 'judged', step, chunk, judge, rewards: config.rewards, fallback: config.fallback });
      }
      await writeCheckpoint({ layout: target, step, chunkCount: info.chunkCount, quarantined: 0 });
    }
  }
  return { runDir, rolloutsDir };
}
