import { appendFile, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, inject, it } from 'vitest';
import type { Rollout } from '../../src/config/rollout';
import type { RewardRecord } from '../../src/contract/reward-record';
import { stepRolloutFile } from '../../src/contract/run-layout';
import { progressQuery } from '../../workflows/definitions';
import { runReviewQuery, runReviewWorkflowId } from '../../workflows/run-review';
import { arbiter, type CliResult } from '../cli/run-cli';
import { withWorker } from '../helpers/temporal';
import { tempDir, writeSteps } from '../support/fixtures';
import { AXIS_TITLES, openReport, type ReportSeen } from './open-report';
import { writeSyntheticRun } from '../support/synthetic-run';

const env = () => ({ TEMPORAL_ADDRESS: inject('temporalAddress'), TEMPORAL_UI_URL: inject('temporalUiUrl') });

async function ok(args: string[]): Promise<CliResult> {
  const result = await arbiter(args, env());
  if (result.code !== 0) throw new Error(`arbiter ${args.join(' ')} exited ${result.code}: ${result.stderr}`);
  return result;
}

async function until<T>(what: string, poll: () => Promise<T>, done: (value: T) => boolean, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await poll();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Every chart in `ids` drew marks, laid out at a real size, with its axis titles; none is missing. */
function expectChartsDrawn(seen: ReportSeen, ids: string[]): void {
  expect(seen.charts.find((c) => c.id === 'reward')!.legendLabels, 'a legend entry for each reward line').toEqual(['mean', 'median (p50)']);
  expect(seen.charts.map((c) => c.id)).toEqual(Object.keys(AXIS_TITLES));
  for (const id of ids) {
    const chart = seen.charts.find((c) => c.id === id)!;
    expect({ id, absent: chart.absent }).toEqual({ id, absent: undefined });
    expect(chart.marks, `${id}: marks`).toBeGreaterThan(0);
    expect(chart.width, `${id}: width`).toBeGreaterThan(300);
    expect(chart.height, `${id}: height`).toBeGreaterThan(100);
    expect(chart.axisTitles, `${id}: axis titles`).toEqual(expect.arrayContaining(AXIS_TITLES[id]!));
  }
}

/** Nothing left the page: the only request is the file itself, and nothing in it could fetch more. */
function expectOffline(seen: ReportSeen, file: string): void {
  expect(seen.requests).toEqual([pathToFileURL(file).href]);
  expect(seen.consoleErrors).toEqual([]);
  expect(seen.scriptTags).toBe(0);
  expect(seen.remoteReferences).toEqual([]);
}

describe('arbiter run report', () => {
  it('draws every chart, optional ones included, from a run folder alone, in real Chromium and offline', async () => {
    const dir = await tempDir('arbiter-report-');
    const runDir = join(dir, 'legal-7');
    await writeSyntheticRun(runDir, { steps: 12, perStep: 40 });
    const out = join(dir, 'elsewhere', 'report.html');

    const written = await ok(['run', 'report', 'legal-7', '--dir', runDir, '--out', out]);
    // No human reviews without Temporal: the agreement chart draws the canaries alone.
    expect(written.stdout).toMatch(new RegExp(`^wrote ${out} \\(\\d+ KiB, 12 steps, 9 of 9 charts drawn\\)$`, 'm'));

    const seen = await openReport(out);
    expectOffline(seen, out);
    expectChartsDrawn(seen, Object.keys(AXIS_TITLES));
    // Steps 3, 6, 9 and 12 quarantined 2 lines each, the others none: four bars stand up, from 0.
    expect(seen.charts.find((c) => c.id === 'quarantine')!.tallBars).toBe(4);
    // Every step has fallbacks of two reasons: 24 stacked bars.
    expect(seen.charts.find((c) => c.id === 'fallback')!.tallBars).toBe(24);
    expect(seen.headline).toBe('Run legal-7: 12 steps scored; its status is unknown.');
    expect(seen.details).toContain('Judge: bedrock:anthropic.claude-test (from the rewards files).');
    // Prompt-cache tokens are in the totals and the tokens chart when summaries carry them.
    expect(seen.details.join(' ')).toMatch(/read from and .* written to the prompt cache/);
    const html = await readFile(out, 'utf8');
    expect(html).toContain('>cache read<');
    expect(html).toContain('>canary accuracy<');
  });

  it("reports a real run: its pause reason in words, human agreement from its reviews, a chart of each series it has, the rest in words", async () => {
    const dir = await tempDir('arbiter-report-');
    const rollouts = join(dir, 'rollouts');
    // Steps 1 and 2 arrive; step 3 never does, so the run waits there and we pause it.
    await writeSteps(rollouts, 2, 8);
    await appendFile(stepRolloutFile(rollouts, 1), 'this line is not a rollout\n');
    const config = join(dir, 'run.yaml');
    await writeFile(
      config,
      ['steps: 3', 'rollouts: { type: directory, path: rollouts }', 'outputDir: out', 'chunkSize: 4', 'review: { everySteps: 1, samples: 2 }', 'quarantine: { maxShare: 0.5 }'].join('\n'),
    );
    const id = `report-run-${Date.now()}`;

    await withWorker(async ({ client, taskQueue }) => {
      await ok(['run', 'start', config, '--id', id, '--task-queue', taskQueue]);
      // Polled through the client: a CLI process per poll would only slow the test down.
      const progress = () => client.workflow.getHandle(id).query(progressQuery);
      await until('two steps', progress, (p) => p.stepsDone === 2 || p.status !== 'running');
      expect((await progress()).stepsDone).toBe(2);
      await ok(['run', 'pause', id, '--reason', 'rewards rise with length, look first']);

      // A reviewer disagrees with one verdict of step 1 (through the CLI, as a person would): the agreement chart has a point.
      const queue = client.workflow.getHandle(runReviewWorkflowId(id));
      const state = await until('the review of step 1', () => queue.query(runReviewQuery).catch(() => undefined), (s) => (s?.steps.find((r) => r.step === 1)?.items.length ?? 0) > 0);
      const itemId = state!.steps.find((r) => r.step === 1)!.items[0]!.itemId;
      await ok(['review', 'submit', id, itemId, '--fail', '--reviewer', 'test']);
      await until('the answer to reach the run', progress, (p) => p.agreement.reviews === 1);

      const written = await ok(['run', 'report', id]);
      const file = join(dir, 'out', id, 'report.html');
      expect(written.stdout).toContain(`wrote ${file} (`);
      // The offline judge had no fallback and makes no model calls: those charts say so instead of drawing empty axes.
      expect(written.stdout).toContain('2 steps, 6 of 9 charts drawn');
      expect(written.stdout).toContain('not drawn: Judge tokens per step. No tokens: the offline heuristic judge (not an LLM) makes no model calls.');
      expect((await stat(file)).size).toBeGreaterThan(10_000);

      // The records the criterion and length charts come from: the rubric's verdicts and the response's length.
      const records = (await readFile(join(dir, 'out', id, 'steps', '000001.rewards.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as RewardRecord);
      const sent = new Map((await readFile(stepRolloutFile(rollouts, 1), 'utf8')).split('\n').flatMap((l) => (l.startsWith('{') ? [JSON.parse(l) as Rollout] : [])).map((r) => [r.id, r]));
      for (const r of records) {
        expect(r.responseChars).toBe(sent.get(r.id)!.response.length);
        expect(r.judge.criteria?.length).toBeGreaterThan(0);
      }

      const seen = await openReport(file);
      expectOffline(seen, file);
      const words = { fallback: 'No fallbacks in this run: every rollout was judged.', tokens: 'No tokens: the offline heuristic judge (not an LLM) makes no model calls.', cost: 'No cost: the offline heuristic judge (not an LLM) makes no model calls.' };
      expectChartsDrawn(seen, Object.keys(AXIS_TITLES).filter((c) => !(c in words)));
      for (const [chart, absent] of Object.entries(words)) {
        expect(seen.charts.find((c) => c.id === chart), chart).toMatchObject({ absent, marks: 0, axisTitles: [] });
      }
      expect(seen.headline).toBe(`Run ${id} is paused after 2 of 3 steps scored, because rewards rise with length, look first.`);
      expect(seen.details).toContain('Judge: offline-heuristic (not an LLM).');
      expect(seen.details.join('\n')).toMatch(/^16 rollouts judged, 0 fallbacks \(0\.0%\), 1 quarantined line\./m);
      expect(seen.details.join('\n')).toMatch(/^Human review: 1 answer, agreeing with the judge (0\.0|100\.0)% of the time/m);
      expect(seen.details).toContain("Status from the run's progress query.");

      await ok(['run', 'cancel', id, '--abandon-step', '--reason', 'test done']);
      await client.workflow.getHandle(id).result();
    });

    // No worker now: the folder is found from the run's start input in history, the status from its result and manifest.
    const after = join(dir, 'after.html');
    await ok(['run', 'report', id, '--out', after]);
    const html = await readFile(after, 'utf8');
    expect(html).toContain(`Run ${id} was cancelled after 2 of 3 steps scored: test done.`);
    expect(html).toContain("Status from the run&#39;s result (no worker answered its progress query).");
  });

  it('points at --dir when Temporal cannot be reached', async () => {
    // Port 9 (discard) on loopback: nothing answers gRPC there.
    const { code, stderr } = await arbiter(['run', 'report', 'any-run'], { TEMPORAL_ADDRESS: '127.0.0.1:9' });
    expect(code).toBe(1);
    expect(stderr).toMatch(/^cannot reach Temporal at 127\.0\.0\.1:9/);
    expect(stderr).toContain('--dir <outputDir>/<runId>');
  });

  it('says so when the run does not exist', async () => {
    const { code, stderr } = await arbiter(['run', 'report', 'no-such-run'], env());
    expect(code).toBe(1);
    expect(stderr.trim()).toBe('no run no-such-run');
  });
});
