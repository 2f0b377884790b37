import { createReadStream } from 'node:fs';

export type RawLine =
  | { lineNumber: number; text: string; byteLength: number }
  | { lineNumber: number; error: 'too-long' | 'invalid-utf8'; preview: string; byteLength: number };

const decoder = new TextDecoder('utf-8', { fatal: true });
const lenient = new TextDecoder('utf-8');

/** The longest line a worker reads from a rollout file (1 MiB): longer ones are quarantined. */
export const MAX_LINE_BYTES = 1024 * 1024;

/**
 * Streams a file's lines as raw bytes, so that invalid UTF-8 is reported instead of silently
 * becoming U+FFFD (what readline does), and an oversized line is skipped without being held
 * in memory. `start`/`end` (inclusive) read a byte range, as chunk references do.
 */
export function readLines(
  path: string,
  options: { maxLineBytes?: number; start?: number; end?: number } = {},
): AsyncGenerator<RawLine> {
  return linesOf(createReadStream(path, { start: options.start, end: options.end }), options.maxLineBytes);
}

/** The lines of a byte stream (a file's, an S3 object's), as `readLines` reports them. */
export async function* linesOf(chunks: AsyncIterable<Uint8Array>, maxLineBytes = MAX_LINE_BYTES): AsyncGenerator<RawLine> {
  let parts: Buffer[] = [];
  let size = 0;
  let tooLong = false;
  let lineNumber = 0;

  const finish = (): RawLine => {
    lineNumber++;
    const byteLength = size;
    if (tooLong) {
      const preview = lenient.decode(Buffer.concat(parts)).slice(0, 200);
      return { lineNumber, error: 'too-long', preview, byteLength };
    }
    const bytes = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    const trimmed = bytes.length > 0 && bytes[bytes.length - 1] === 0x0d ? bytes.subarray(0, -1) : bytes;
    try {
      return { lineNumber, text: decoder.decode(trimmed), byteLength };
    } catch {
      return { lineNumber, error: 'invalid-utf8', preview: lenient.decode(trimmed).slice(0, 200), byteLength };
    }
  };

  const append = (piece: Buffer) => {
    size += piece.length;
    if (tooLong) return;
    if (size > maxLineBytes) {
      tooLong = true;
      // keep a preview only
      parts = [Buffer.concat([...parts, piece]).subarray(0, 400)];
      return;
    }
    parts.push(piece);
  };

  for await (const chunk of chunks) {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let from = 0;
    for (let nl = buf.indexOf(0x0a, from); nl !== -1; nl = buf.indexOf(0x0a, from)) {
      append(buf.subarray(from, nl));
      yield finish();
      parts = [];
      size = 0;
      tooLong = false;
      from = nl + 1;
    }
    if (from < buf.length) append(Buffer.from(buf.subarray(from)));
  }
  if (size > 0 || parts.length > 0) yield finish();
}
