import type { Command } from 'commander';
import { RunLayout } from '../contract/run-layout';
import { resolveLocation } from '../storage/location';
import { storeFor } from '../storage/stores';
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
  const isRunDir = async (dir: string) => {
    const manifest = new RunLayout(dir).manifest;
    return (await storeFor(manifest).stat(manifest).catch(() => undefined)) !== undefined;
  };
  const given = resolveLocation(run);
  if (await isRunDir(given)) return given;
  const underOutput = RunLayout.of(resolveLocation(flags.outputDir), run).runDir;
  if (await isRunDir(underOutput)) return underOutput;
  throw new CliError(`no run folder for ${run}: neither ${given} nor ${underOutput} holds a manifest.jsonl (pass the folder, or --output-dir)`, EXIT_INVALID);
}


/** A number option, checked where it is read so a typo is named. */
export function numberOption(value: string, name: string, check: (x: number) => boolean, expected: string): number {
  const x = Number(value);
  if (value.trim() === '' || !Number.isFinite(x) || !check(x)) throw new CliError(`${name}: expected ${expected}, got "${value}"`, EXIT_INVALID);
  return x;
}
