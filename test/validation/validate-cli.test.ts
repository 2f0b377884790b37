import { randomUUID } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NativeConnection, Worker } from '@temporalio/worker';
import { temporal } from '@temporalio/proto';
import { describe, expect, inject, it } from 'vitest';
import type { ValidationItem } from '../../src/validation/dataset';
import type { ValidationReport } from '../../src/validation/measure/report';
import { freePort } from '../../src/temporal/dev-server/free-port';
import { WORKFLOW_WORKER_UNHANDLED_FAILURE } from '../../src/temporal/first-workflow-task';
import { clientOnly, withWorker } from '../helpers/temporal';
import { arbiter } from '../cli/run-cli';
import { FIRST_TASK_SECONDS } from '../../src/cli/judge';
import { writeDataset } from './harness';
import { arbiterDataConverter } from '../../src/temporal/payload-compression';

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

  it('fails within seconds, naming the queue and what to start, when the worker on the queue does not have judgeValidation', async () => {
    const { file } = await configFile();
    const taskQueue = `older-${randomUUID()}`;
    const id = `validate-older-${randomUUID()}`;
    // A worker of an Arbiter from before judge validation (runs and reviews only) polls the queue.
    const connection = await NativeConnection.connect({ address: inject('temporalAddress') });
    try {
      const older = await Worker.create({ connection, taskQueue, dataConverter: arbiterDataConverter, workflowsPath: fileURLToPath(new URL('./workflows-without-validation.ts', import.meta.url)) });
      const started = Date.now();
      const result = await older.runUntil(arbiter(['judge', 'validate', file, '--id', id, '--task-queue', taskQueue], env()));
      expect(Date.now() - started).toBeLessThan(30_000);
      expect(result.code, result.stderr).toBe(1);
      expect(result.stderr).toContain(`the worker polling task queue "${taskQueue}" cannot run judge validations`);
      expect(result.stderr).toContain(`Start a worker of this Arbiter version on it (ARBITER_TASK_QUEUE=${taskQueue} npm run worker)`);
      expect(result.stdout).not.toContain('report:');
      // Terminated, so no worker started later runs a validation nobody waits for.
      const { status } = await clientOnly((client) => client.workflow.getHandle(id).describe());
      expect(status.name).toBe('TERMINATED');
    } finally {
      await connection.close();
    }
    // The cause the command recognises is the one Temporal records for such a worker.
    expect(WORKFLOW_WORKER_UNHANDLED_FAILURE).toBe(temporal.api.enums.v1.WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_WORKFLOW_WORKER_UNHANDLED_FAILURE);
  });

  it('fails within seconds, naming the queue, when the worker seen on the queue has stopped', async () => {
    const { file } = await configFile();
    // A worker polls, then stops: the server lists it among the queue's pollers for a while after,
    // so the command starts no worker of its own and nothing takes the validation.
    const taskQueue = await withWorker(async ({ client, taskQueue }) => {
      const pollers = () => client.workflowService.describeTaskQueue({ namespace: 'default', taskQueue: { name: taskQueue }, taskQueueType: 1 });
      while (((await pollers()).pollers?.length ?? 0) === 0) await new Promise((r) => setTimeout(r, 100));
      return taskQueue;
    });
    const id = `validate-gone-${randomUUID()}`;
    const started = Date.now();
    const result = await arbiter(['judge', 'validate', file, '--id', id, '--task-queue', taskQueue], env());
    expect(Date.now() - started).toBeLessThan((FIRST_TASK_SECONDS + 30) * 1000);
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr).toContain(`no worker on task queue "${taskQueue}" took the judge validation within ${FIRST_TASK_SECONDS} s`);
    expect(result.stderr).toContain(`ARBITER_TASK_QUEUE=${taskQueue} npm run worker`);
    const { status } = await clientOnly((client) => client.workflow.getHandle(id).describe());
    expect(status.name).toBe('TERMINATED');
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
