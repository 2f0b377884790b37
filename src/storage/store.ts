import type { RawLine } from '../io/read-lines';

export interface FileToWrite {
  path: string;
  data: string;
}

export interface StoredFileInfo {
  size: number;
  modifiedMs: number;
}

/**
 * What a run needs from where its files live. Two kinds: the local filesystem (FileStore, the
 * default) and S3-compatible object storage (S3Store); `storeFor(location)` picks by the
 * location's form. Each operation says what a reader may rely on, and both kinds keep it:
 *
 * - a reader sees a file whole or not at all (write, writeMany, create, append's lines);
 * - `create` has one winner however many callers race, on any number of machines;
 * - `append` loses no line of a concurrent appender;
 * - every write is durable when its promise resolves.
 */
export interface Store {
  /** The text, or undefined when there is no such file. */
  readText(location: string): Promise<string | undefined>;
  /** The bytes, streamed; `start`/`end` inclusive byte range. A missing file throws an error whose `code` is 'ENOENT'. */
  bytes(location: string, options?: { start?: number; end?: number }): AsyncIterable<Uint8Array>;
  /** Lines as raw bytes (invalid UTF-8 and oversized lines reported); `start`/`end` inclusive byte range. */
  readLines(location: string, options?: { maxLineBytes?: number; start?: number; end?: number }): AsyncGenerator<RawLine>;
  /** Size and modification time, or undefined when there is no such file. */
  stat(location: string): Promise<StoredFileInfo | undefined>;
  /** Names directly inside a folder (files and folders), sorted; empty when there is none. */
  list(folder: string): Promise<string[]>;

  /** Replaces the file's content atomically. */
  write(location: string, data: string | Uint8Array): Promise<void>;
  writeMany(files: readonly FileToWrite[]): Promise<void>;
  /** Creates the file with its content unless the name exists: true where this call created it. */
  create(location: string, data: string): Promise<boolean>;
  createMany(files: readonly FileToWrite[]): Promise<boolean[]>;
  /** Appends text (whole lines) durably, creating the file when missing. */
  append(location: string, text: string): Promise<void>;

  remove(location: string): Promise<void>;
  /** Removes a folder and everything under it; nothing when it is not there. */
  removeTree(folder: string): Promise<void>;

  /** A writer of JSON lines that appear under `location` only on commit. */
  jsonlWriter(location: string): JsonlWriter;
}

export interface JsonlWriter {
  readonly path: string;
  bytes: number;
  lines: number;
  /** Writes one line; returns the byte offset at which it starts. */
  write(value: unknown): Promise<number>;
  /** The sha256 of what was written so far. */
  sha256(): string;
  commit(): Promise<void>;
  abort(): Promise<void>;
}
