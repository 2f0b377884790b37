// Run under strace by durable-writes.test.ts: each kind of write the manifest vouches for, once.
import { join } from 'node:path';
import { writeFileAtomic } from '../../src/io/atomic-write';
import { AtomicJsonlWriter } from '../../src/io/jsonl-writer';
import { appendDurably } from '../../src/io/append-durably';
import { createFilesExclusive, writeFilesAtomic } from '../../src/io/atomic-batch';

const dir = process.argv[2]!;
await writeFileAtomic(join(dir, 'new-a', 'new-b', 'atomic.json'), '{}');
const writer = new AtomicJsonlWriter(join(dir, 'steps', 'rewards.jsonl'));
await writer.write({ id: 'r1' });
await writer.commit();
await appendDurably(join(dir, 'manifest.jsonl'), '{"step":1}\n');
await writeFilesAtomic([1, 2, 3].map((i) => ({ path: join(dir, 'batch', `file-${i}.json`), data: `{"i":${i}}` })));
await createFilesExclusive([1, 2].map((i) => ({ path: join(dir, 'records', `record-${i}.json`), data: `{"i":${i}}` })));
