/** One caller's request waiting for an Update to the run. */
export interface Waiting {
  /** Requests under one key never share an Update: the second waits for the next. */
  key: string;
  bytes: number;
}

export interface RoundOptions {
  /** How long the first request of a round waits for others to join it. */
  windowMs: number;
  /** Updates in flight at once (Temporal admits 10 per workflow). */
  maxInFlight: number;
  /** An Update's payload limit: a round larger than this goes as several Updates. */
  maxBytes: number;
  /** Requests per Update. */
  maxCount: number;
}

/**
 * Groups callers' requests into Updates to one run, a round at a time (group commit).
 *
 * The run handles Updates one workflow task at a time, and everything that reaches it during a
 * task waits for the next. So an Update sent while another is in flight gains nothing by going
 * early: it only splits the callers the next task could take together into two tasks. A round is
 * therefore sent when nothing is in flight, after a short window in which the callers just answered
 * send again and join it; while a round is in flight the next one gathers. Only a full Update (the
 * payload limit reached) goes at once, beside those in flight, up to `maxInFlight`.
 *
 * Measured with `npm run bench:serve` (256 one-sample clients, offline judge): one Update per task
 * holding every waiting caller, instead of half of them (docs/performance.md).
 */
export class UpdateRounds<T extends Waiting> {
  private queue: T[] = [];
  private queuedBytes = 0;
  private timer: NodeJS.Timeout | undefined;
  /** Updates of rounds in flight (those sent `alone` are not: a round never waits for them). */
  private inFlight = 0;

  constructor(
    private readonly options: RoundOptions,
    /** Sends one Update; settles when the run has answered it, and never rejects (it tells its callers why itself). */
    private readonly send: (batch: T[]) => Promise<void>,
  ) {}

  add(item: T): void {
    this.queue.push(item);
    this.queuedBytes += item.bytes;
    if (this.queuedBytes >= this.options.maxBytes || this.queue.length >= this.options.maxCount) this.flush(false);
    if (this.inFlight === 0) this.startWindow();
  }

  /** The round's window: it runs from the first request waiting, whatever is sent meanwhile. */
  private startWindow(): void {
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.flush(true);
    }, this.options.windowMs);
  }

  /**
   * Sends `batch` as one Update now, outside any round (a request that must go alone): rounds
   * neither wait for it nor count it.
   */
  alone(batch: T[]): void {
    void this.send(batch);
  }

  /** Sends what waits: every Update that is full, and the rest too when `partial` and nothing is in flight. */
  private flush(partial: boolean): void {
    while (this.queue.length > 0 && this.inFlight < this.options.maxInFlight) {
      const { batch, rest, full } = this.take();
      if (!full && !(partial && this.inFlight === 0)) break;
      this.queue = rest;
      this.queuedBytes -= batch.reduce((n, p) => n + p.bytes, 0);
      void this.dispatch(batch);
    }
  }

  /** The next Update's requests from the head of the queue, and whether it is full. */
  private take(): { batch: T[]; rest: T[]; full: boolean } {
    const batch: T[] = [];
    const rest: T[] = [];
    const keys = new Set<string>();
    let bytes = 0;
    let full = false;
    for (const p of this.queue) {
      const room = batch.length === 0 || (bytes + p.bytes <= this.options.maxBytes && batch.length < this.options.maxCount);
      if (!room) full = true;
      if (!room || keys.has(p.key)) {
        rest.push(p);
        continue;
      }
      batch.push(p);
      keys.add(p.key);
      bytes += p.bytes;
    }
    full ||= bytes >= this.options.maxBytes || batch.length >= this.options.maxCount;
    return { batch, rest, full };
  }

  private async dispatch(batch: T[]): Promise<void> {
    this.inFlight++;
    try {
      await this.send(batch);
    } finally {
      this.inFlight--;
      if (this.queue.length > 0) {
        this.flush(false);
        if (this.inFlight === 0) this.startWindow();
      }
    }
  }

  /** Updates of rounds in flight now (for tests and logs). */
  get sending(): number {
    return this.inFlight;
  }
}
