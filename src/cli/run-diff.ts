import type { Command } from 'commander';
import { ORIGINAL_VERSION } from '../contract/reward-version';
import { locateFlips } from '../versions/flip-texts';
import { diffVersions, DEFAULT_DIFF_OPTIONS } from '../versions/version-diff';
import { readVersionRecords, VersionNotFound, type VersionRecords } from '../versions/version-records';
import { CliError, EXIT_INVALID } from './errors';
import { formatDiff } from './format-diff';
import { numberOption, runFolder, withRunFolderOptions, type RunFolderFlags } from './run-folder';

type DiffFlags = RunFolderFlags & { json?: boolean; rollouts?: string; passThreshold: string; flips: string; binWidth: string };

/** `arbiter run diff <run> [<versionA>] <versionB>`: how a re-judged version's rewards differ from another's. */
export function addDiffCommand(run: Command): void {
  withRunFolderOptions(
    run
      .command('diff')
      .description("compare two reward versions of a run (default A: the original): what changed, per step and overall")
      .argument('<run>', 'the run folder, or its id under --output-dir')
      .argument('<versionA>', `version A, or version B when it is the only one given (A is then "${ORIGINAL_VERSION}")`)
      .argument('[versionB]', 'version B')
      .option('--json', 'print the diff as JSON (nothing else on stdout)')
      .option('--rollouts <dir>', "a directory-fed run's rollouts.path, where the flipped rollouts' texts are (an inbox-fed run keeps them itself)")
      .option('--pass-threshold <reward>', 'a reward at or above this passes', String(DEFAULT_DIFF_OPTIONS.passThreshold))
      .option('--flips <n>', 'how many flipped rollouts to list (all are counted)', String(DEFAULT_DIFF_OPTIONS.flipLimit))
      .option('--bin-width <shift>', 'width of the histogram bins of reward shifts', String(DEFAULT_DIFF_OPTIONS.binWidth)),
  ).action(async (run: string, first: string, second: string | undefined, opts: DiffFlags) => {
    const runDir = await runFolder(run, opts);
    const [nameA, nameB] = second === undefined ? [ORIGINAL_VERSION, first] : [first, second];
    const options = {
      passThreshold: numberOption(opts.passThreshold, '--pass-threshold', () => true, 'a reward'),
      flipLimit: numberOption(opts.flips, '--flips', (x) => Number.isInteger(x) && x >= 0, 'a whole number ≥ 0'),
      binWidth: numberOption(opts.binWidth, '--bin-width', (x) => x > 0, 'a positive number'),
    };
    const [a, b] = [await readVersion(runDir, nameA), await readVersion(runDir, nameB)];
    for (const v of [a, b]) {
      if (v.missingFiles.length) console.error(`${v.version}: the rewards files of steps ${v.missingFiles.join(', ')} are missing; those steps are left out`);
    }
    const diff = diffVersions(a, b, options);
    diff.flips = await locateFlips(runDir, diff.flips, opts.rollouts);
    console.log(opts.json ? JSON.stringify(diff, null, 2) : formatDiff(diff));
  });
}

async function readVersion(runDir: string, version: string): Promise<VersionRecords> {
  try {
    return await readVersionRecords(runDir, version);
  } catch (err) {
    if (err instanceof VersionNotFound) throw new CliError(err.message, EXIT_INVALID);
    throw err;
  }
}
