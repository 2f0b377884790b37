export interface Load {
  seconds: number;
  latencies: number[];
}

/** `clients` concurrent callers share `count` calls, each making its next call once its last returned. */
export async function closedLoop(count: number, clients: number, call: (i: number) => Promise<void>): Promise<Load> {
  let next = 0;
  const latencies: number[] = [];
  const began = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(clients, count) }, async () => {
      while (next < count) {
        const i = next++;
        const t0 = performance.now();
        await call(i);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  return { seconds: (performance.now() - began) / 1000, latencies };
}
