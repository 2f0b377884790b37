import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { once } from 'node:events';
import { fsyncDir, fsyncFile, mkdirDurable } from './durable';

/**
 * Streams JSON lines into a temp file and renames it into place on `commit()`, so a crash
 * mid-write leaves no half file under the real name, and a committed file survives power loss
 * (file fsynced before the rename, folder after). Respects backpressure.
 */
export class AtomicJsonlWriter {
  private stream: WriteStream | undefined;
  private readonly tmp: string;
  private readonly hash = createHash('sha256');
  bytes = 0;
  lines = 0;

  constructor(readonly path: string) {
    this.tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  }

  /** Writes one line; returns the byte offset at which it starts. */
  async write(value: unknown): Promise<number> {
    if (!this.stream) {
      await mkdirDurable(dirname(this.path));
      this.stream = createWriteStream(this.tmp);
    }
    const line = JSON.stringify(value) + '\n';
    const offset = this.bytes;
    this.bytes += Buffer.byteLength(line);
    this.lines++;
    this.hash.update(line);
    if (!this.stream.write(line)) await once(this.stream, 'drain');
    return offset;
  }

  /** The sha256 of what was written so far. */
  sha256(): string {
    return this.hash.copy().digest('hex');
  }

  async commit(): Promise<void> {
    if (!this.stream) {
      await mkdirDurable(dirname(this.path));
      this.stream = createWriteStream(this.tmp);
    }
    const stream = this.stream;
    await new Promise<void>((resolve, reject) => stream.end((err?: Error | null) => (err ? reject(err) : resolve())));
    await fsyncFile(this.tmp);
    await rename(this.tmp, this.path);
    await fsyncDir(dirname(this.path));
  }

  async abort(): Promise<void> {
    await closed(this.stream);
    await rm(this.tmp, { force: true });
  }
}

/**
 * Destroys a write stream and waits until its file is closed. A stream destroyed while its file
 * is still opening opens it first: removing the file before then leaves it behind once it opens.
 */
export async function closed(stream: WriteStream | undefined): Promise<void> {
  if (!stream || stream.closed) return;
  const done = once(stream, 'close').catch(() => undefined);
  stream.destroy();
  await done;
}
