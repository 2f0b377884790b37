import { randomUUID } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import type { ValidationItem } from '../../src/validation/dataset';
import type { ValidationReport } from '../../src/validation/measure/report';
import { freePort } from '../../src/temporal/dev-server/free-port';
import { arbiter } from '../cli/run-cli';
import { writeDataset } from './harness';

const env = () => ({ TEMPORAL_ADDRESS: inject('temporalAddress'), TEMPORAL_UI_URL: inject('temporalUiUrl') });

/** A few offline-judgeable items: half answer the clause with its reference words, half do not. */
function items(): ValidationItem[] {
  const reference = 'High risk: the supplier can terminate at will without notice, leaving no continuity.';
  return Array.from({ length: 12 }, (_, i) => ({
    id: `i${i}`,
    prompt: `Flag the risk of clause ${i}: the supplier may terminate at any time without notice.`,
    response: i % 2 === 0 ? 'High risk: the supplier can terminate at will without notice, so there is no continuity.' : 'Fine.',
    reference,
    human: { pass: i % 3 !== 0, score: 1 + (i % 5) },
    gold: (i % 4) / 4,
  }));
}

async function configFile(): Promise<{ dir: string; file: string }> {
  const { dir } = await writeDataset(items());
  const file = join(dir, 'validate.yaml');
  await writeFile(file, ['dataset: items.jsonl', 'outputDir: out', 'repeats: 2', 'attackItems: 3', 'judges:', '  - name: offline', '    judge: { provider: offline-heuristic }', ''].join('\n'));
  return { dir, file };
}

describe('arbiter judge validate', () => {
  it('prints every metric, and exits non-zero naming each threshold that failed', async () => {
    const { dir, file } = await configFile();
    const id = `validate-cli-${randomUUID()}`;
    const result = await arbiter(['judge', 'validate', file, '--id', id, '--task-queue', `q-${randomUUID()}`, '--min-kappa', '0.99', '--max-attack-pass', '0', '--max-flip-rate', '0.5'], env());
    expect(result.stdout).toContain('the offline demo judge');
    for (const heading of ['Self-consistency', 'Position bias', 'Agreement with humans', 'Agreement with gold scores', 'Bias probes', 'Thresholds: FAILED']) {
      expect(result.stdout).toContain(heading);
    }
    expect(result.code, result.stderr).toBe(3);
    expect(result.stderr).toMatch(/threshold failed: --min-kappa 0\.99: judge offline/);
    // The offline judge passes a response that only restates the prompt.
    expect(result.stderr).toMatch(/threshold failed: --max-attack-pass 0: judge offline/);
    expect(result.stderr).not.toContain('--max-flip-rate');
    const report = JSON.parse(await readFile(join(dir, 'out', id, 'report.json'), 'utf8')) as ValidationReport;
    expect(report.gates.map((g) => [g.flag, g.ok])).toEqual([
      ['--min-kappa', false],
      ['--max-flip-rate', true],
      ['--max-attack-pass', false],
    ]);
    expect(report.judges[0]!.offlineDemoJudge).toBe(true);
  });

  it('with --json, prints only the report on stdout, even when it starts its own dev server (the server\'s banner goes to stderr)', async () => {
    const { dir, file } = await configFile();
    const id = `validate-json-${randomUUID()}`;
    // Nothing listens there: the command starts a dev server of its own on that port, as on a fresh clone.
    const port = await freePort();
    const result = await arbiter(['judge', 'validate', file, '--json', '--id', id], { TEMPORAL_ADDRESS: `127.0.0.1:${port}` });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain(`no Temporal server at 127.0.0.1:${port}: starting a dev server`);
    const printed = JSON.parse(result.stdout) as ValidationReport;
    expect(printed.validationId).toBe(id);
    expect(printed).toEqual(JSON.parse(await readFile(join(dir, 'out', id, 'report.json'), 'utf8')));
    // The server stopped with the command.
    const refused = await new Promise<string | undefined>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => socket.end(() => resolve(undefined)));
      socket.on('error', (err: NodeJS.ErrnoException) => resolve(err.code));
    });
    expect(refused).toBe('ECONNREFUSED');
  });

  it('refuses a threshold that is not a number, and a dataset line that is not an item, before starting anything', async () => {
    const { dir, file } = await configFile();
    const badFlag = await arbiter(['judge', 'validate', file, '--min-kappa', 'high'], env());
    expect(badFlag.code).toBe(2);
    expect(badFlag.stderr).toContain('--min-kappa: expected a number');

    await writeFile(join(dir, 'items.jsonl'), '{"id":"a","prompt":"p","response":"r"}\n{"id":"b","prompt":"p","response":"r","gold":7}\n');
    const badLine = await arbiter(['judge', 'validate', file], env());
    expect(badLine.code).toBe(2);
    expect(badLine.stderr).toMatch(/items\.jsonl line 2: gold: /);
  });
});
