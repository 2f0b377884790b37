/** Polls `probe` until it returns a value `until` accepts; fails after `timeoutMs`, naming the last value. */
export async function waitFor<T>(probe: () => Promise<T>, until: (value: T) => boolean, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < deadline) {
    last = await probe();
    if (until(last)) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`condition not reached in ${timeoutMs} ms; last value: ${JSON.stringify(last)?.slice(0, 2000)}`);
}
