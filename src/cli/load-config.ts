import { existsSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { ConfigError } from '../config/validation-error';
import { parseRunConfig, type RunConfig, type RunConfigInput } from '../config/run-config';
import { CanaryFileError, loadCanarySet } from '../steps/canary-set';
import { CliError, EXIT_INVALID } from './errors';
import { readDocument } from './parse-document';
import { isS3Location } from '../storage/location';

export interface LoadedConfig {
  file: string;
  /** What the workflow receives: the user's config with its relative paths made absolute (validated as `config`). */
  input: RunConfigInput;
  /** The same, validated and with defaults filled in. */
  config: RunConfig;
  /** Things that may be fine (a worker on another machine) but usually are a mistake. */
  warnings: string[];
}

/**
 * Reads a run config (YAML or JSON) and validates it as the workflow will. Relative
 * `rollouts.path` and `outputDir` are resolved against the config file's directory, so a run
 * started from any directory finds its files; the worker must see those same absolute paths.
 * An `outputDir` left out keeps its default, which the worker resolves against its own cwd.
 */
export async function loadRunConfig(file: string): Promise<LoadedConfig> {
  const raw = await readDocument(file);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new CliError(`invalid run config ${file}:\n  (root): expected an object of settings`, EXIT_INVALID);
  }
  // Editors' schema pointer, not a setting: the run itself would reject the unknown key.
  const { $schema: _schema, ...settings } = raw as Record<string, unknown>;
  const baseDir = dirname(resolve(file));
  const input = resolvePaths(settings, baseDir);
  try {
    const config = parseRunConfig(input);
    const warnings = [...missingRollouts(config, settings, baseDir), ...(await checkCanaryFile(config))];
    return { file, input: input as RunConfigInput, config, warnings };
  } catch (err) {
    if (err instanceof ConfigError) {
      throw new CliError(`invalid run config ${file}:\n  ${err.issues.join('\n  ')}`, EXIT_INVALID);
    }
    if (err instanceof CanaryFileError) {
      throw new CliError(`invalid run config ${file}:\n  ${err.message.replace(/\n/g, '\n  ')}`, EXIT_INVALID);
    }
    throw err;
  }
}

/** A bad canary line found now, not when the first step pauses on it; a file not here may be on the worker's machine. */
async function checkCanaryFile(config: RunConfig): Promise<string[]> {
  if (!config.canary) return [];
  // An object in S3 is read by the workers, with their credentials: this machine may have none.
  if (isS3Location(config.canary.file)) return [];
  if (!existsSync(config.canary.file)) return [`warning: canary.file ${config.canary.file} does not exist here`];
  const judge = config.judge;
  await loadCanarySet(config.canary.file, { criterionIds: judge.provider === 'offline-heuristic' ? undefined : judge.rubric.criteria.map((c) => c.id) });
  return [];
}

export function resolvePaths(input: Record<string, unknown>, baseDir: string): Record<string, unknown> {
  const absolute = (p: unknown) => (typeof p === 'string' && p !== '' && !isAbsolute(p) && !isS3Location(p) ? resolve(baseDir, p) : p);
  const out = { ...input };
  const rollouts = input.rollouts;
  if (typeof rollouts === 'object' && rollouts !== null && 'path' in rollouts) {
    out.rollouts = { ...rollouts, path: absolute((rollouts as { path: unknown }).path) };
  }
  if ('outputDir' in input) out.outputDir = absolute(input.outputDir);
  const canary = input.canary;
  if (typeof canary === 'object' && canary !== null && 'file' in canary) {
    out.canary = { ...canary, file: absolute((canary as { file: unknown }).file) };
  }
  return out;
}

/**
 * The trainer may create the rollouts folder later, so a missing one is only a warning; but
 * it is most often a path written relative to some other directory than the config's.
 */
function missingRollouts(config: RunConfig, written: Record<string, unknown>, baseDir: string): string[] {
  if (config.rollouts.type !== 'directory' || isS3Location(config.rollouts.path) || existsSync(config.rollouts.path)) return [];
  const original = (written.rollouts as { path?: unknown } | undefined)?.path;
  const relative = typeof original === 'string' && !isAbsolute(original);
  return [
    `warning: rollouts.path ${config.rollouts.path} does not exist here (yet)` +
      (relative ? `; relative paths are resolved against the config file's folder ${baseDir}` : ''),
  ];
}
