import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import YAML from 'yaml';
import { CliError, EXIT_INVALID } from './errors';

/**
 * Parses JSON or YAML text, by extension; without a known one, text that opens with `{` or `[`
 * is read as JSON (so its errors are JSON errors) and anything else as YAML.
 */
export function parseDocument(text: string, name: string): unknown {
  const ext = extname(name).toLowerCase();
  const format = ext === '.json' ? 'JSON' : ext === '.yaml' || ext === '.yml' ? 'YAML' : /^\s*[[{]/.test(text) ? 'JSON' : 'YAML';
  try {
    return format === 'JSON' ? JSON.parse(text) : YAML.parse(text);
  } catch (err) {
    throw new CliError(`${name}: not valid ${format}: ${(err as Error).message}`, EXIT_INVALID);
  }
}

export async function readDocument(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, EXIT_INVALID);
  }
  return parseDocument(text, file);
}

/** An argument that is either inline JSON (`'{"reason":"x"}'`) or the name of a JSON/YAML file. */
export async function readJsonArg(arg: string, what: string): Promise<unknown> {
  if (/^\s*[[{]/.test(arg)) {
    try {
      return JSON.parse(arg);
    } catch (err) {
      throw new CliError(`${what}: not valid JSON: ${(err as Error).message}`, EXIT_INVALID);
    }
  }
  return readDocument(arg);
}
