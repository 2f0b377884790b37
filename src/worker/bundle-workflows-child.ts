import { writeFile } from 'node:fs/promises';
import { bundleWorkflowCode } from '@temporalio/worker';
import { WORKFLOWS_PATH } from './workflows-path';

/** Child-process entry of bundleWorkflowsInChild: bundles the workflows into the file named in argv. */
async function main(out: string | undefined): Promise<void> {
  if (!out) throw new Error('usage: bundle-workflows-child.ts <output file>');
  const quiet = () => {};
  const { code } = await bundleWorkflowCode({
    workflowsPath: WORKFLOWS_PATH,
    logger: { log: quiet, trace: quiet, debug: quiet, info: quiet, warn: console.warn, error: console.error },
  });
  await writeFile(out, code);
}

main(process.argv[2]).catch((err) => {
  console.error(err);
  process.exit(1);
});
