import { nameOf } from '../storage/location';
import { storeFor } from '../storage/stores';

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
  const name = nameOf(file);
  const terminated = await endsWithNewline(file);
  if (terminated === undefined) {
    return { type: 'RolloutsMissing', message: `${nameOf(marker)} is there but ${file} is not: write the step file, then the marker` };
  }
  if (!terminated) {
    return {
      type: 'RolloutsUnterminated',
      message:
        `${name} ends without a newline: a trainer still writing? ${file} was marked ready by ${nameOf(marker)}, ` +
        'but every line, the last too, must end with "\\n"; write the whole file, close it, then create the marker',
    };
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
      message: `${nameOf(marker)} says ${expected} lines, ${name} has ${found}: ${file} is not the file the trainer finished`,
    };
  }
  return undefined;
}

/**
 * Whether a file is empty or ends with "\n" (a cut last line means its writer was not done);
 * undefined when there is no such file. Only the last byte is read.
 */
export async function endsWithNewline(file: string): Promise<boolean | undefined> {
  const store = storeFor(file);
  const info = await store.stat(file);
  if (info === undefined) return undefined;
  if (info.size === 0) return true;
  for await (const last of store.bytes(file, { start: info.size - 1, end: info.size - 1 })) return last[0] === 0x0a;
  return false; // shorter than a moment ago: its writer is not done
}

async function countLines(file: string): Promise<number> {
  let n = 0;
  for await (const chunk of storeFor(file).bytes(file)) {
    for (let i = chunk.indexOf(0x0a); i !== -1; i = chunk.indexOf(0x0a, i + 1)) n++;
  }
  return n;
}
