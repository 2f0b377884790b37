import { open, type FileHandle } from 'node:fs/promises';

interface Known<T> {
  /** Which file: device, inode and birth time (a file deleted and made again often gets the same inode). */
  identity: string;
  /** Its first bytes, checked again at every read: a file made again differs there too. */
  head: Buffer;
  /** Bytes read and parsed: whole lines only. */
  size: number;
  items: T[];
}

const HEAD_BYTES = 256;

/** Files this process keeps parsed (the manifests of the runs it works on); the oldest are forgotten first. */
const MAX_FILES = 16;
const known = new Map<string, Known<unknown>>();

/**
 * The lines of a file that is only ever appended to or replaced whole (by a rename, so another
 * inode), parsed; undefined when there is no file. Parses only what was appended since this
 * process last read it: a run's manifest gains a line a step, and reading it whole at every
 * checkpoint made a step cost more the longer the run (`npm run bench:manifest`: 3 ms a read at
 * 1,000 steps, 35 ms at 10,000). A file replaced (another inode), deleted and made again (often
 * the same inode: another birth time, other first bytes) or cut shorter is read whole again.
 * `torn`: the last line has no newline yet (an append cut short, or still being written); it is
 * neither returned nor kept. Blank lines are skipped; `parse` gets each line's position among the
 * others (0 first).
 */
export async function readGrownLines<T>(path: string, parse: (line: string, index: number) => T): Promise<{ items: T[]; torn: boolean } | undefined> {
  const file = await open(path, 'r').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  if (!file) {
    known.delete(path);
    return undefined;
  }
  try {
    const info = await file.stat();
    const identity = `${info.dev}:${info.ino}:${info.birthtimeMs}`;
    const before = known.get(path) as Known<T> | undefined;
    const same = before !== undefined && before.identity === identity && info.size >= before.size && (await headOf(file, before.head.length)).equals(before.head);
    const from = same ? before.size : 0;
    const items = same ? [...before.items] : [];
    const bytes = Buffer.alloc(info.size - from);
    let read = 0;
    while (read < bytes.length) {
      const { bytesRead } = await file.read(bytes, read, bytes.length - read, from + read);
      if (bytesRead === 0) break;
      read += bytesRead;
    }
    // A newline byte is never part of a multi-byte UTF-8 character: cutting there keeps characters whole.
    const whole = bytes.lastIndexOf(0x0a, read - 1) + 1;
    for (const line of bytes.subarray(0, whole).toString('utf8').split('\n')) {
      if (line.trim()) items.push(parse(line, items.length));
    }
    known.delete(path);
    const size = from + whole;
    // The head compared above stays right while it was already whole; else it is read again, longer.
    const headLength = Math.min(size, HEAD_BYTES);
    const head = same && before.head.length === headLength ? before.head : await headOf(file, headLength);
    known.set(path, { identity, head, size, items });
    if (known.size > MAX_FILES) known.delete(known.keys().next().value!);
    return { items: [...items], torn: whole < read };
  } finally {
    await file.close();
  }
}

async function headOf(file: FileHandle, length: number): Promise<Buffer> {
  const head = Buffer.alloc(length);
  const { bytesRead } = await file.read(head, 0, length, 0);
  return head.subarray(0, bytesRead);
}
