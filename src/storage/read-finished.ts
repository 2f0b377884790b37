import { storeFor } from './stores';

/**
 * What an earlier attempt appended to a partial-results file, by record id: none when the file is
 * not there yet. A line torn by a crash (or one `parse` refuses) is dropped, so its item is judged
 * again rather than trusted half-written.
 */
export async function readFinished<T extends { id: string }>(path: string, parse: (value: unknown) => T): Promise<Map<string, T>> {
  const finished = new Map<string, T>();
  const text = await storeFor(path).readText(path);
  if (text === undefined) return finished;
  for (const line of text.split('\n')) {
    if (!line) continue;
    try {
      const record = parse(JSON.parse(line));
      finished.set(record.id, record);
    } catch {
      // a torn last line from a crash
    }
  }
  return finished;
}
