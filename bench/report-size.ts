/**
 * How big the run report of a long run is, and how long it takes to write: a synthetic run
 * folder (BENCH_STEPS steps of BENCH_ROLLOUTS rollouts, with criteria, lengths, cache tokens and
 * canaries, as the checkpoint writes them), then `writeReport` on it, as `arbiter run report
 * --dir` does. No Temporal needed. `npx tsx bench/report-size.ts`
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeReport } from '../src/report/write-report';
import { writeSyntheticRun } from '../test/support/synthetic-run';
import { envNumber, note, round, runBench } from './harness';

runBench(async () => {
  const steps = envNumber('BENCH_STEPS', 1000);
  const rollouts = envNumber('BENCH_ROLLOUTS', 64);
  const dir = await mkdtemp(join(tmpdir(), 'arbiter-bench-report-'));
  try {
    note(`writing a ${steps}-step run of ${rollouts} rollouts a step`);
    await writeSyntheticRun(dir, { steps, perStep: rollouts });
    const started = performance.now();
    const written = await writeReport({
      runDir: dir,
      out: join(dir, 'report.html'),
      header: { runId: 'bench', status: 'completed', statusSource: 'the benchmark', totalSteps: steps },
    });
    const seconds = (performance.now() - started) / 1000;
    const perChart = Object.fromEntries(written.charts.map((c) => [c.chart.id, c.svg?.length ?? 0]));
    note(`report: ${(written.bytes / 1024 / 1024).toFixed(2)} MiB in ${seconds.toFixed(1)} s; SVG bytes per chart ${JSON.stringify(perChart)}`);
    return { steps, rollouts, reportBytes: written.bytes, seconds: round(seconds, 2), chartsDrawn: written.charts.filter((c) => c.svg).length, svgBytesPerChart: perChart };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
