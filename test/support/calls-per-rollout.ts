import type { FakeCall } from './fake-bedrock';
import { userText } from './fake-bedrock-env';

/**
 * The fake Bedrock's calls per rollout, by the `[s<step>-r<i>]` tag the crash suites put in every
 * response (`unknown` for a call without one): what a crash made the run pay twice.
 */
export class CallsPerRollout {
  private readonly calls = new Map<string, number>();

  count(call: FakeCall): void {
    const id = /\[(s\d+-r\d+)\]/.exec(userText(call))?.[1] ?? 'unknown';
    this.calls.set(id, (this.calls.get(id) ?? 0) + 1);
  }

  get(id: string): number | undefined {
    return this.calls.get(id);
  }

  clear(): void {
    this.calls.clear();
  }

  /** Calls beyond each rollout's first. */
  get duplicates(): number {
    return [...this.calls.values()].reduce((n, calls) => n + calls - 1, 0);
  }

  /** `id×n` for each rollout judged more than once, or `none`. */
  paidTwice(): string {
    return [...this.calls.entries()].filter(([, n]) => n > 1).map(([id, n]) => `${id}×${n}`).join(' ') || 'none';
  }
}
