import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { closed } from '../io/jsonl-writer';
import { linesOf, type RawLine } from '../io/read-lines';
import { boundedAll } from '../util/bounded-all';
import { parseS3Location } from './location';
import type { FileToWrite, JsonlWriter, Store, StoredFileInfo } from './store';

/** Requests in flight per batch operation: S3 takes thousands per second per prefix. */
const CONCURRENCY = 16;
/** Conditional writes that lost a race are tried again this many times before giving up. */
const MAX_CONFLICTS = 60;

/** An object named by a run was not there (`code` as the filesystem's, so callers treat both alike). */
export class StoredObjectMissing extends Error {
  override name = 'StoredObjectMissing';
  readonly code = 'ENOENT';
}

/** A conditional write kept losing to other writers: the object is being written too often to append to. */
export class StoredObjectContended extends Error {
  override name = 'StoredObjectContended';
}

/**
 * S3-compatible object storage. What each write relies on (the README's "Artifacts in S3" says it
 * for users):
 *
 * - write: a PUT replaces an object atomically, readers see the old or the new body;
 * - create: `If-None-Match: *`, which S3 answers 412 when the key exists, so one racer wins;
 * - append: read the object and its ETag, PUT old + new with `If-Match: <etag>` (or
 *   `If-None-Match: *` when there was none); a 412 or 409 means another writer got there first:
 *   read again and retry. A PUT that landed but whose answer was lost is recognised on the next
 *   read (the object then starts with what we meant to write), so a retry never appends twice.
 */
export class S3Store implements Store {
  constructor(private readonly client: S3Client) {}

  async readText(location: string): Promise<string | undefined> {
    return (await this.readVersioned(location))?.text;
  }

  async *bytes(location: string, options: { start?: number; end?: number } = {}): AsyncGenerator<Uint8Array> {
    const { bucket, key } = parseS3Location(location);
    const range = options.start !== undefined || options.end !== undefined ? `bytes=${options.start ?? 0}-${options.end ?? ''}` : undefined;
    let body: Readable;
    try {
      const answer = await this.client.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: range }));
      body = answer.Body as Readable;
    } catch (err) {
      if (isStatus(err, 404)) throw new StoredObjectMissing(`no such object: ${location}`);
      if (isStatus(err, 416)) return; // a range past the end of an empty object
      throw err;
    }
    yield* body;
  }

  readLines(location: string, options: { maxLineBytes?: number; start?: number; end?: number } = {}): AsyncGenerator<RawLine> {
    return linesOf(this.bytes(location, options), options.maxLineBytes);
  }

  async stat(location: string): Promise<StoredFileInfo | undefined> {
    const { bucket, key } = parseS3Location(location);
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      return { size: head.ContentLength ?? 0, modifiedMs: head.LastModified?.getTime() ?? 0 };
    } catch (err) {
      if (isStatus(err, 404)) return undefined;
      throw err;
    }
  }

  async list(folder: string): Promise<string[]> {
    const { bucket, key } = parseS3Location(folder);
    const prefix = key ? `${key}/` : '';
    const names = new Set<string>();
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, Delimiter: '/', ContinuationToken: token }),
      );
      for (const p of page.CommonPrefixes ?? []) if (p.Prefix) names.add(p.Prefix.slice(prefix.length).replace(/\/$/, ''));
      for (const o of page.Contents ?? []) if (o.Key) names.add(o.Key.slice(prefix.length));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    names.delete('');
    return [...names].sort();
  }

  async write(location: string, data: string | Uint8Array): Promise<void> {
    const { bucket, key } = parseS3Location(location);
    // The length given: the SDK cannot tell an empty body from a stream of unknown length and warns.
    await this.client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: data, ContentLength: Buffer.byteLength(data) }));
  }

  async writeMany(files: readonly FileToWrite[]): Promise<void> {
    await boundedAll(files.length, CONCURRENCY, (i) => this.write(files[i]!.path, files[i]!.data));
  }

  async create(location: string, data: string): Promise<boolean> {
    const { bucket, key } = parseS3Location(location);
    for (let attempt = 0; ; attempt++) {
      try {
        await this.client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: data, IfNoneMatch: '*' }));
        return true;
      } catch (err) {
        if (isStatus(err, 412)) return false;
        // 409: a concurrent write to the key was in progress; S3 asks for a retry.
        if (!isStatus(err, 409) || attempt >= MAX_CONFLICTS) throw err;
        await pause(attempt);
      }
    }
  }

  createMany(files: readonly FileToWrite[]): Promise<boolean[]> {
    return boundedAll(files.length, CONCURRENCY, (i) => this.create(files[i]!.path, files[i]!.data));
  }

  async append(location: string, text: string): Promise<void> {
    const { bucket, key } = parseS3Location(location);
    let current = await this.readVersioned(location);
    for (let attempt = 0; ; attempt++) {
      const before = current?.text ?? '';
      try {
        await this.client.send(
          new PutObjectCommand({
            Bucket: bucket,
            Key: key,
            Body: before + text,
            ...(current ? { IfMatch: current.etag } : { IfNoneMatch: '*' }),
          }),
        );
        return;
      } catch (err) {
        if (!isStatus(err, 412) && !isStatus(err, 409)) throw err;
      }
      current = await this.readVersioned(location);
      // Our PUT landed and its answer was lost (the SDK retried it and met our own write).
      if (current?.text.startsWith(before + text)) return;
      if (attempt >= MAX_CONFLICTS) throw new StoredObjectContended(`${location}: ${attempt + 1} appends in a row lost to other writers`);
      await pause(attempt);
    }
  }

  async remove(location: string): Promise<void> {
    const { bucket, key } = parseS3Location(location);
    await this.client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
  }

  async removeTree(folder: string): Promise<void> {
    const { bucket, key } = parseS3Location(folder);
    const prefix = key ? `${key}/` : '';
    let token: string | undefined;
    do {
      const page = await this.client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
      const keys = (page.Contents ?? []).flatMap((o) => (o.Key ? [{ Key: o.Key }] : []));
      if (keys.length > 0) await this.client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys, Quiet: true } }));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  jsonlWriter(location: string): JsonlWriter {
    return new S3JsonlWriter(location, (path, size) => this.upload(location, path, size));
  }

  private async upload(location: string, path: string, size: number): Promise<void> {
    const { bucket, key } = parseS3Location(location);
    await this.client.send(
      new PutObjectCommand({ Bucket: bucket, Key: key, Body: createReadStream(path), ContentLength: size }),
    );
  }

  private async readVersioned(location: string): Promise<{ text: string; etag: string } | undefined> {
    const { bucket, key } = parseS3Location(location);
    try {
      const answer = await this.client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return { text: (await answer.Body?.transformToString('utf8')) ?? '', etag: answer.ETag ?? '' };
    } catch (err) {
      if (isStatus(err, 404)) return undefined;
      throw err;
    }
  }
}

/**
 * Lines spooled to a local temp file and PUT as one object on commit: S3 has no rename, and an
 * object appears whole when its PUT completes, which is the same promise.
 */
class S3JsonlWriter implements JsonlWriter {
  private stream: WriteStream | undefined;
  private dir: string | undefined;
  private file = '';
  private readonly hash = createHash('sha256');
  bytes = 0;
  lines = 0;

  constructor(
    readonly path: string,
    private readonly upload: (file: string, size: number) => Promise<void>,
  ) {}

  async write(value: unknown): Promise<number> {
    const stream = await this.open();
    const line = JSON.stringify(value) + '\n';
    const offset = this.bytes;
    this.bytes += Buffer.byteLength(line);
    this.lines++;
    this.hash.update(line);
    if (!stream.write(line)) await once(stream, 'drain');
    return offset;
  }

  sha256(): string {
    return this.hash.copy().digest('hex');
  }

  async commit(): Promise<void> {
    const stream = await this.open();
    await new Promise<void>((resolve, reject) => stream.end((err?: Error | null) => (err ? reject(err) : resolve())));
    try {
      await this.upload(this.file, this.bytes);
    } finally {
      await this.cleanUp();
    }
  }

  async abort(): Promise<void> {
    await closed(this.stream);
    await this.cleanUp();
  }

  private async open(): Promise<WriteStream> {
    if (!this.stream) {
      this.dir = await mkdtemp(join(tmpdir(), 'arbiter-s3-'));
      this.file = join(this.dir, 'lines.jsonl');
      this.stream = createWriteStream(this.file);
    }
    return this.stream;
  }

  private async cleanUp(): Promise<void> {
    if (this.dir) await rm(this.dir, { recursive: true, force: true });
  }
}

function isStatus(err: unknown, status: number): boolean {
  return err instanceof S3ServiceException && err.$metadata.httpStatusCode === status;
}

function pause(attempt: number): Promise<void> {
  const ms = Math.min(250, 5 * 2 ** Math.min(attempt, 6)) * (0.5 + Math.random());
  return new Promise((resolve) => setTimeout(resolve, ms));
}
