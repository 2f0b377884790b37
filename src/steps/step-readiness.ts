import { createReadStream } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { basename } from 'node:path';

export interface StepFileProblem {
  type: 'RolloutsMissing' | 'RolloutsUnterminated' | 'RolloutsIncomplete';
  message: string;
}

/**
 * What is wrong with a step file its trainer has marked ready, if anything: it must exist, end
 * with a newline (a cut last line means the writer was not done, not that the line is bad
 * input), and have as many lines as the marker states when it states a number.
 */
export async function checkStepFile(file: string, marker: string, stated: string): Promise<StepFileProblem | undefined> {
  const name = basename(file);
  let handle;
  try {
    handle = await open(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    return { type: 'RolloutsMissing', message: `${basename(marker)} is there but ${file} is not: write the step file, then the marker` };
  }
  try {
    if (!(await endsWithNewline(handle))) {
      return {
        type: 'RolloutsUnterminated',
        message:
          `${name} ends without a newline: a trainer still writing? ${file} was marked ready by ${basename(marker)}, ` +
          'but every line, the last too, must end with "\\n"; write the whole file, close it, then create the marker',
      };
    }
  } finally {
    await handle.close();
  }
  const expected = stated.trim();
  if (expected === '') return undefined;
  if (!/^\d+$/.test(expected)) {
    return { type: 'RolloutsIncomplete', message: `${marker}: expected empty or a line count, found ${JSON.stringify(expected.slice(0, 40))}` };
  }
  const found = await countLines(file);
  if (found !== Number(expected)) {
    return {
      type: 'RolloutsIncomplete',
      message: `${basename(marker)} says ${expected} lines, ${name} has ${found}: ${file} is not the file the trainer finished`,
    };
  }
  return undefined;
}

/** Whether an open file is empty or ends with "\n": a cut last line means its writer was not done. */
export async function endsWithNewline(handle: FileHandle): Promise<boolean> {
  const { size } = await handle.stat();
  if (size === 0) return true;
  const last = Buffer.alloc(1);
  await handle.read(last, 0, 1, size - 1);
  return last[0] === 0x0a;
}

async function countLines(file: string): Promise<number> {
  let n = 0;
  for await (const chunk of createReadStream(file)) {
    const buf = chunk as Buffer;
    for (let i = buf.indexOf(0x0a); i !== -1; i = buf.indexOf(0x0a, i + 1)) n++;
  }
  return n;
}
