import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeReport } from '../../src/report/write-report';
import { tempDir } from '../support/fixtures';
import { writeJudgedRun } from '../support/judged-run';
import { writeSyntheticRun } from '../support/synthetic-run';

describe("the run report's Versions section", () => {
  it('shows each version against the original with its figures, flips and drawn charts', async () => {
    const dir = await tempDir('arbiter-report-versions-');
    // Trajectories: the run keeps its rollouts in its inbox, so the flips link to their texts.
    const run = await writeJudgedRun(dir, { trajectories: true });
    const out = join(dir, 'report.html');
    const written = await writeReport({ runDir: run.runDir, header: { runId: 'judged', status: 'completed', statusSource: 'a test' }, out });
    expect(written.versions).toEqual(['strict']);
    const html = await readFile(out, 'utf8');
    const section = html.slice(html.indexOf('<section class="versions"'));
    // The figures of test/versions/version-diff.test.ts, as the table shows them.
    expect(section).toContain('5 of 7 compared rewards changed');
    expect(section).toContain('<tr><td>all</td><td>7</td><td>5</td><td>-0.024</td><td>0.606</td><td>-0.235</td><td>2</td><td>1</td></tr>');
    expect(section).toContain('<tr><td>concise</td><td>57%</td><td>57%</td><td>1</td><td>1</td><td>0.417</td></tr>');
    expect(section).toContain('3 rollouts flipped pass↔fail');
    expect(section).toMatch(/step 1 <code>s1-f<\/code>: 0\.000 → 0\.667 <a href="file:\/\/[^"]+\/inbox\/step-000001\.jsonl">[^<]+<\/a> line 6/);
    for (const id of ['shift', 'histogram', 'criteria']) expect(section).toMatch(new RegExp(`id="chart-version-strict-${id}"[^]*?<svg`));
  });

  it('is absent from a run without versions', async () => {
    const runDir = join(await tempDir('arbiter-report-versions-'), 'r');
    await writeSyntheticRun(runDir, { steps: 2, perStep: 5 });
    const written = await writeReport({ runDir, header: { runId: 'r', status: 'completed', statusSource: 'a test' }, out: join(runDir, 'report.html') });
    expect(written.versions).toEqual([]);
    expect(await readFile(join(runDir, 'report.html'), 'utf8')).not.toContain('class="versions"');
  });
});
