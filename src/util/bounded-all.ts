/**
 * Runs `task(0..count-1)` with at most `limit` in flight and returns results in index order.
 * Deterministic: tasks start in index order, so replays schedule the same activities.
 */
export async function boundedAll<T>(count: number, limit: number, task: (index: number) => Promise<T>): Promise<T[]> {
  const results = new Array<T>(count);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < count) {
      const index = next++;
      results[index] = await task(index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, count) }, lane));
  return results;
}
