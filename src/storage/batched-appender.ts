import { storeFor } from './stores';

/**
 * Appends lines to a file in batches: one append per `maxLines` lines or per `maxDelayMs`,
 * whichever comes first, instead of one per line (each is an fsync on a filesystem, a read and
 * a rewrite of the whole object on S3). Appends are serialised, so lines never interleave. What
 * is still pending at a crash is lost, which callers accept only for work they can redo cheaply
 * (judgements are in the judge cache by then).
 */
export class BatchedAppender {
  private pending: string[] = [];
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();
  private failure: unknown;

  constructor(
    private readonly path: string,
    private readonly maxLines = 100,
    private readonly maxDelayMs = 250,
  ) {}

  add(lines: string[]): void {
    if (this.failure) throw this.failure;
    this.pending.push(...lines);
    if (this.pending.length >= this.maxLines) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), this.maxDelayMs);
  }

  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.length > 0) {
      const text = this.pending.join('');
      this.pending = [];
      this.writing = this.writing.then(() => storeFor(this.path).append(this.path, text)).catch((err: unknown) => {
        this.failure = err;
      });
    }
    return this.writing;
  }

  /** Writes what is pending and reports a failed write, if any. */
  async close(): Promise<void> {
    await this.flush();
    if (this.failure) throw this.failure;
  }
}
