import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Client } from '@temporalio/client';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { parseRunConfig } from '../config/run-config';
import { RunLayout } from '../contract/run-layout';
import { writeReport } from '../report/write-report';
import { ensureSearchAttributes } from '../temporal/search-attributes';
import { connectOrStart } from '../temporal/dev-server/connect-or-start';
import { connectClient, connectWorker, temporalSettings } from '../temporal/connection';
import { workflowUrl } from '../temporal/web-ui-link';
import { createArbiterWorker } from '../worker/create-worker';
import { progressQuery } from '../../workflows/definitions';
import type { RunProgress } from '../../workflows/progress';
import { rftRun } from '../../workflows/rft-run';
import { judgeLabel } from '../config/judge-config';
import { arbiterDataConverter } from '../temporal/payload-compression';

const EXAMPLE = 'examples/contracts/run.json';

/**
 * `npm run demo`: a whole run on the bundled contract-clause dataset with the OFFLINE
 * HEURISTIC judge (text rules, not an LLM), so it needs no credentials and no network.
 */
async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const target = await connectOrStart(temporalSettings(), (line) => console.log(line));
  const env = target.settings;
  const connection = await connectClient(env);
  const nativeConnection = await connectWorker(env);
  try {
    const added = await ensureSearchAttributes(connection, env.namespace);
    if (added.length) console.log(`registered search attributes: ${added.join(', ')}`);
    const client = new Client({ connection, namespace: env.namespace, dataConverter: arbiterDataConverter });
    const config = parseRunConfig(JSON.parse(await readFile(EXAMPLE, 'utf8')));
    const workflowId = `demo-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    const worker = await createArbiterWorker({ connection: nativeConnection, namespace: env.namespace, taskQueue: env.taskQueue });

    console.log(`judge: offline heuristic (deterministic text rules, NOT an LLM) — demo only`);
    const result = await worker.runUntil(async () => {
      const handle = await client.workflow.start(rftRun, {
        taskQueue: env.taskQueue,
        workflowId,
        args: [config],
        staticSummary: 'Arbiter demo: contract-clause risk flags, offline heuristic judge',
      });
      console.log(`started run ${workflowId}`);
      console.log(`watch it: ${workflowUrl(target.uiUrl, env.namespace, workflowId)}`);
      const stopWatching = watch(() => handle.query(progressQuery));
      try {
        return await handle.result();
      } finally {
        await stopWatching();
      }
    });

    const layout = RunLayout.of(config.outputDir, result.runId);
    console.log(`\nrun complete: ${result.stepsDone} steps`);
    console.log(`rewards:  ${resolve(layout.runDir, 'steps')}`);
    console.log(`manifest: ${resolve(layout.manifest)}`);
    const report = resolve(layout.runDir, 'report.html');
    await writeReport({
      runDir: resolve(layout.runDir),
      out: report,
      header: {
        runId: result.runId,
        status: result.status,
        statusSource: "the run's result",
        totalSteps: config.steps,
        judgeModel: judgeLabel({ provider: 'offline-heuristic' }),
        agreement: result.agreement,
      },
    });
    // --dir: the dev server this demo started is gone by the time someone runs it again.
    console.log(`report:   ${report} (open it in a browser; \`npx arbiter run report ${workflowId} --dir ${layout.runDir}\` makes it again)`);
    if (target.devServer) {
      console.log(`\nthe dev server this demo started stops now; run \`npm run server\` in another terminal first to keep the Web UI (${target.uiUrl}) up.`);
    }
  } finally {
    await connection.close();
    await nativeConnection.close();
    await target.devServer?.stop();
  }
}

/** Prints each step as it completes; resolves the returned stopper after a final poll. */
function watch(poll: () => Promise<RunProgress>): () => Promise<void> {
  let lastPrinted = -Infinity;
  let stopped = false;
  const tick = async () => {
    const p = await poll().catch(() => undefined);
    for (const s of p?.recent ?? []) {
      if (s.step <= lastPrinted) continue;
      lastPrinted = s.step;
      console.log(
        `step ${s.step}/${p!.totalSteps}: ${s.count} rollouts, reward mean ${s.reward.mean.toFixed(3)} ` +
          `(p50 ${s.reward.p50.toFixed(3)}, max ${s.reward.max.toFixed(3)}), fallbacks ${(s.fallbackRate * 100).toFixed(1)}%, quarantined ${s.quarantined}`,
      );
    }
  };
  const loop = (async () => {
    while (!stopped) {
      await tick();
      await new Promise((r) => setTimeout(r, 250));
    }
    await tick();
  })();
  return async () => {
    stopped = true;
    await loop;
  };
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
