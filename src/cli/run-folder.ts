import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { RunLayout } from '../contract/run-layout';
import { CliError, EXIT_INVALID } from './errors';

export interface RunFolderFlags {
  outputDir: string;
}

/** The options of commands that read a run's folder alone (no Temporal): where runs are. */
export function withRunFolderOptions(command: Command): Command {
  return command.option('--output-dir <dir>', "the runs' outputDir, where <run> is looked up when it is not a folder itself", 'runs');
}

/** `<run>` is a run folder (one holding manifest.jsonl), or a run id under --output-dir. */
export async function runFolder(run: string, flags: RunFolderFlags): Promise<string> {
  const isRunDir = (dir: string) => stat(new RunLayout(dir).manifest).then((s) => s.isFile(), () => false);
  if (await isRunDir(resolve(run))) return resolve(run);
  const underOutput = RunLayout.of(resolve(flags.outputDir), run).runDir;
  if (await isRunDir(underOutput)) return underOutput;
  throw new CliError(`no run folder for ${run}: neither ${resolve(run)} nor ${underOutput} holds a manifest.jsonl (pass the folder, or --output-dir)`, EXIT_INVALID);
}

/** A number option, checked where it is read so a typo is named. */
export function numberOption(value: string, name: string, check: (x: number) => boolean, expected: string): number {
  const x = Number(value);
  if (value.trim() === '' || !Number.isFinite(x) || !check(x)) throw new CliError(`${name}: expected ${expected}, got "${value}"`, EXIT_INVALID);
  return x;
}
