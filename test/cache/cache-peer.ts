/**
 * A second process on the same cache, driven over stdin/stdout by judge-cache tests:
 *   put <key> <score>   -> "put <key>" once durable
 *   get <key>           -> "got <key> <score|missing>"
 * End of stdin closes the cache and exits (a command to exit would leave stdin holding the
 * process open).
 * Run as `node --import tsx test/cache/cache-peer.ts <cache path>`.
 */
import { createInterface } from 'node:readline';
import { JudgeCache } from '../../src/cache/judge-cache';

interface Scored {
  ok: true;
  score: number;
}

const path = process.argv[2];
if (!path) throw new Error('usage: cache-peer.ts <cache path>');
const cache = await JudgeCache.open<Scored>(path);
process.stdout.write('ready\n');

for await (const line of createInterface({ input: process.stdin })) {
  const [command, key, score] = line.split(' ');
  if (command === 'put' && key) {
    await cache.put(key, { ok: true, score: Number(score) });
    process.stdout.write(`put ${key}\n`);
  } else if (command === 'get' && key) {
    process.stdout.write(`got ${key} ${cache.get(key)?.score ?? 'missing'}\n`);
  }
}
await cache.close();
