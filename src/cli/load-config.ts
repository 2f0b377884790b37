import { existsSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { ConfigError } from '../config/validation-error';
import { parseRunConfig, type RunConfig, type RunConfigInput } from '../config/run-config';
import { CliError, EXIT_INVALID } from './errors';
import { readDocument } from './parse-document';

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
    return { file, input: input as RunConfigInput, config, warnings: missingRollouts(config, settings, baseDir) };
  } catch (err) {
    if (err instanceof ConfigError) {
      throw new CliError(`invalid run config ${file}:\n  ${err.issues.join('\n  ')}`, EXIT_INVALID);
    }
    throw err;
  }
}

export function resolvePaths(input: Record<string, unknown>, baseDir: string): Record<string, unknown> {
  const absolute = (p: unknown) => (typeof p === 'string' && p !== '' && !isAbsolute(p) ? resolve(baseDir, p) : p);
  const out = { ...input };
  const rollouts = input.rollouts;
  if (typeof rollouts === 'object' && rollouts !== null && 'path' in rollouts) {
    out.rollouts = { ...rollouts, path: absolute((rollouts as { path: unknown }).path) };
  }
  if ('outputDir' in input) out.outputDir = absolute(input.outputDir);
  return out;
}

/**
 * The trainer may create the rollouts folder later, so a missing one is only a warning; but
 * it is most often a path written relative to some other directory than the config's.
 */
function missingRollouts(config: RunConfig, written: Record<string, unknown>, baseDir: string): string[] {
  if (config.rollouts.type !== 'directory' || existsSync(config.rollouts.path)) return [];
  const original = (written.rollouts as { path?: unknown } | undefined)?.path;
  const relative = typeof original === 'string' && !isAbsolute(original);
  return [
    `warning: rollouts.path ${config.rollouts.path} does not exist here (yet)` +
      (relative ? `; relative paths are resolved against the config file's folder ${baseDir}` : ''),
  ];
}
