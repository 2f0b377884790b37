import { Option, type Command } from 'commander';
import { ORIGINAL_VERSION } from '../contract/reward-version';
import { EXPORT_FORMATS, exportRun, type ExportFormat, type ExportSummary } from '../datasets/export-run';
import { resolveLocation } from '../storage/location';
import { storeFor } from '../storage/stores';
import { VersionNotFound } from '../versions/version-records';
import { CliError, EXIT_INVALID } from './errors';
import { numberOption, runFolder, withRunFolderOptions, type RunFolderFlags } from './run-folder';

type ExportFlags = RunFolderFlags & { version: string; format: ExportFormat; out?: string; minMargin: string; minReward?: string; rollouts?: string };

/** Progress lines at most this often: a long export says where it is without flooding the terminal. */
const PROGRESS_MS = 1000;

/** `arbiter run export <run> --format dpo|sft|rewards`: a judged run as a dataset TRL and Hugging Face `datasets` load as it is. */
export function addExportCommand(run: Command): void {
  withRunFolderOptions(
    run
      .command('export')
      .description('write a reward version of a run as JSONL: DPO pairs, best-of-group SFT samples, or the reward table')
      .argument('<run>', 'the run folder, or its id under --output-dir')
      .addOption(new Option('--format <format>', 'dpo: prompt/chosen/rejected; sft: prompt/completion; rewards: one line per rollout').choices(EXPORT_FORMATS).makeOptionMandatory())
      .option('--version <name>', 'the reward version to export', ORIGINAL_VERSION)
      .option('--out <file>', 'write here (atomically) instead of stdout')
      .option('--min-margin <reward>', 'dpo: the least reward difference between chosen and rejected', '0.1')
      .option('--min-reward <reward>', "sft: leave out a group whose best reward is under this")
      .option('--rollouts <dir>', "a directory-fed run's rollouts.path, where its texts are (an updates- or service-fed run keeps them in its inbox)")
      .addHelpText(
        'after',
        '\nFallback and excluded rewards never make a pair or a sample (the rewards format lists them with their status).\n' +
          'A step whose rollouts are no longer stored is named on stderr and left out, never guessed.',
      ),
  ).action(async (runArg: string, opts: ExportFlags) => {
    const runDir = await runFolder(runArg, opts);
    const minMargin = numberOption(opts.minMargin, '--min-margin', (x) => x >= 0, 'a reward difference ≥ 0');
    const minReward = opts.minReward === undefined ? undefined : numberOption(opts.minReward, '--min-reward', () => true, 'a reward');
    const out = opts.out === undefined ? undefined : resolveLocation(opts.out);
    const file = out === undefined ? undefined : storeFor(out).jsonlWriter(out);
    const write = file ? (row: Record<string, unknown>) => file.write(row).then(() => undefined) : writeStdout;
    let last = Date.now();
    let summary: ExportSummary;
    try {
      summary = await exportRun({
        runDir,
        version: opts.version,
        format: opts.format,
        minMargin,
        minReward,
        rolloutsDir: opts.rollouts === undefined ? undefined : resolveLocation(opts.rollouts),
        write,
        onStep: ({ step, done, total, rows }) => {
          if (Date.now() - last < PROGRESS_MS) return;
          last = Date.now();
          console.error(`export: step ${step} (${done} of ${total} steps), ${rows} rows`);
        },
      });
      await file?.commit();
    } catch (err) {
      await file?.abort();
      if (err instanceof VersionNotFound) throw new CliError(err.message, EXIT_INVALID);
      throw err;
    }
    for (const line of summaryLines(summary, out)) console.error(line);
  });
}

async function writeStdout(row: Record<string, unknown>): Promise<void> {
  if (!process.stdout.write(JSON.stringify(row) + '\n')) await new Promise((r) => process.stdout.once('drain', r));
}

/** What was written and everything left out, on stderr (stdout may be the dataset itself). */
function summaryLines(s: ExportSummary, out: string | undefined): string[] {
  const lines = [`export: ${s.rows} ${s.format} rows from ${s.steps} steps of version ${s.version}${out ? ` to ${out}` : ''}${s.format === 'rewards' ? '' : s.conversational ? ' (conversational: message lists)' : ' (standard: strings)'}`];
  for (const gone of s.goneSteps) lines.push(`export: step ${gone.step} left out: ${gone.why}`);
  if (s.missingRewardFiles.length) lines.push(`export: steps ${s.missingRewardFiles.join(', ')} left out: their rewards files are missing`);
  if (s.format !== 'rewards') {
    lines.push(`export: not used: ${s.fallback} fallback and ${s.excluded} excluded rewards (never paired or sampled)${s.textsMissing ? `, ${s.textsMissing} scored rollouts whose texts are not stored as judged` : ''}`);
    const skipped = Object.entries(s.skipped).filter(([, n]) => n > 0);
    lines.push(`export: ${s.groups} groups${skipped.length ? `; without a row: ${skipped.map(([why, n]) => `${n} ${why}`).join(', ')}` : ''}`);
  }
  return lines;
}
