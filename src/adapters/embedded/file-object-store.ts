import { randomUUID } from 'node:crypto';
import { closeSync, constants, fdatasync, link, open, rename, unlink, writev } from 'node:fs';
import { mkdir, open as openFile, readdir, readFile, stat, unlink as unlinkFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { ConditionFailedError } from '../../errors.js';
import { assertValidObjectKey, type ObjectInfo, type ObjectStore, type PutOptions, type StoredObject } from '../../ports/object-store.js';
import type { Page } from '../../ports/table.js';
import { assertIntegerInRange } from '../../ports/queue.js';

// Each object is one file: a JSON header line (content type, size) then the body. One file
// keeps body and metadata atomic together under a single rename.
const SUFFIX = '.obj';
const TMP_DIR = '.tmp';
const HEADER_MAX = 1024;

/**
 * S3 semantics on files: each put writes a temp file, fsyncs it and renames it into place
 * (`link` for `ifNotExists`, which fails atomically if the key exists), so a reader never
 * sees half an object and an acknowledged put survives a crash.
 */
export class FileObjectStore implements ObjectStore {
  private readonly root: string;
  /** Directories known to exist: saves two mkdir calls per put on the hot path. */
  private readonly madeDirs = new Set<string>();

  constructor(baseDir: string, readonly name: string) {
    this.root = join(baseDir, name);
  }

  async put(key: string, body: string | Uint8Array, options: PutOptions = {}): Promise<void> {
    assertValidObjectKey(key);
    const bytes = typeof body === 'string' ? Buffer.from(body) : body;
    const header = Buffer.from(`${JSON.stringify({ contentType: options.contentType ?? 'application/octet-stream', size: bytes.byteLength })}\n`);
    const tmpDir = join(this.root, TMP_DIR);
    const target = this.pathOf(key);
    const targetDir = dirname(target);
    if (!this.madeDirs.has(tmpDir)) await this.ensureDir(tmpDir);
    if (!this.madeDirs.has(targetDir)) await this.ensureDir(targetDir);
    await placeFile(join(tmpDir, randomUUID()), target, [header, bytes], options.ifNotExists === true).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'EEXIST' && options.ifNotExists === true) throw new ConditionFailedError(`object ${key} already exists`, { cause: error });
      throw error;
    });
  }

  async get(key: string): Promise<StoredObject | undefined> {
    assertValidObjectKey(key);
    const raw = await readFile(this.pathOf(key)).catch(ifMissing(undefined));
    if (raw === undefined) return undefined;
    const newline = raw.indexOf(10);
    const header = parseHeader(raw.subarray(0, newline));
    const lastModified = await stat(this.pathOf(key)).then((s) => s.mtimeMs, ifMissing(0));
    return { key, ...header, lastModified, body: raw.subarray(newline + 1) };
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    assertValidObjectKey(key);
    const file = await openFile(this.pathOf(key), 'r').catch(ifMissing(undefined));
    if (file === undefined) return undefined;
    try {
      const { buffer, bytesRead } = await file.read(Buffer.alloc(HEADER_MAX), 0, HEADER_MAX, 0);
      const head = buffer.subarray(0, bytesRead);
      const stat = await file.stat();
      return { key, ...parseHeader(head.subarray(0, head.indexOf(10))), lastModified: stat.mtimeMs };
    } finally {
      await file.close();
    }
  }

  async delete(key: string): Promise<void> {
    assertValidObjectKey(key);
    await unlinkFile(this.pathOf(key)).catch(ifMissing(undefined));
  }

  async list(prefix: string, options: { limit?: number; cursor?: string } = {}): Promise<Page<ObjectInfo>> {
    const limit = options.limit ?? 1000;
    assertIntegerInRange('limit', limit, 1, 1000);
    // Walk only the directory that can hold the prefix, not the whole bucket.
    const dir = prefix.includes('/') ? prefix.slice(0, prefix.lastIndexOf('/')) : '';
    if (dir !== '') assertValidObjectKey(dir);
    const keys = (await this.walk(join(this.root, dir)))
      .filter((k) => k.startsWith(prefix) && (options.cursor === undefined || k > options.cursor))
      .sort();
    const page = keys.slice(0, limit);
    const items: ObjectInfo[] = [];
    for (const key of page) {
      const info = await this.head(key);
      if (info !== undefined) items.push(info);
    }
    return keys.length > limit ? { items, cursor: page[page.length - 1]! } : { items };
  }

  /**
   * Removes temp files of puts that a crash cut off (older than `olderThanMs`); they are never
   * visible as objects, only wasted space. The runtime calls it periodically.
   */
  async sweepTempFiles(olderThanMs = 3_600_000): Promise<number> {
    const dir = join(this.root, TMP_DIR);
    const names = await readdir(dir).catch(ifMissing([] as string[]));
    let removed = 0;
    for (const name of names) {
      const path = join(dir, name);
      const info = await stat(path).catch(ifMissing(undefined));
      if (info !== undefined && Date.now() - info.mtimeMs > olderThanMs) {
        await unlinkFile(path).catch(ifMissing(undefined));
        removed++;
      }
    }
    return removed;
  }

  private async ensureDir(dir: string): Promise<void> {
    if (this.madeDirs.has(dir)) return;
    await mkdir(dir, { recursive: true });
    this.madeDirs.add(dir);
  }

  private pathOf(key: string): string {
    return join(this.root, ...key.split('/')) + SUFFIX;
  }

  private async walk(dir: string): Promise<string[]> {
    const entries = await readdir(dir, { withFileTypes: true, recursive: true }).catch(ifMissing([]));
    return entries
      .filter((e) => e.isFile() && e.name.endsWith(SUFFIX))
      .map((e) => relative(this.root, join(e.parentPath, e.name)).split(sep).join('/').slice(0, -SUFFIX.length))
      .filter((k) => !k.startsWith(`${TMP_DIR}/`));
  }
}

/** Flags of a temp file whose writes are durable when they return (`O_DSYNC`: one fewer round trip than write + fdatasync). */
const CREATE_DURABLE = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_DSYNC ?? 0);
const SYNC_ON_WRITE = constants.O_DSYNC !== undefined;

/**
 * Writes `buffers` to a new temp file, durably, then moves it to `target`: `link` when
 * `exclusive` (fails with EEXIST, atomically, if the target exists), `rename` otherwise; the
 * temp name is gone when the promise settles. Plain callbacks, not `fs/promises`: one
 * promise per put instead of one per step and no FileHandle objects (this runs once per job).
 */
function placeFile(tmp: string, target: string, buffers: Uint8Array[], exclusive: boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    const fail = (error: unknown) => unlink(tmp, () => reject(error));
    open(tmp, CREATE_DURABLE, 0o600, (openError, fd) => {
      if (openError) return reject(openError);
      writeAll(fd, buffers, (writeError) => {
        const durable = (syncError: Error | null) => {
          // The bytes are on disk. Closing a regular file is cheap: done here rather than as one
          // more round trip through the thread pool.
          try {
            closeSync(fd);
          } catch {
            // nothing to lose: the data is written (or the put fails below)
          }
          if (syncError) return fail(syncError);
          if (exclusive) link(tmp, target, (linkError) => unlink(tmp, () => (linkError ? reject(linkError) : resolve())));
          else rename(tmp, target, (renameError) => (renameError ? fail(renameError) : resolve()));
        };
        if (writeError || SYNC_ON_WRITE) durable(writeError);
        else fdatasync(fd, durable);
      });
    });
  });
}

/** `writev`, continued until every byte is written. */
function writeAll(fd: number, buffers: Uint8Array[], done: (error: Error | null) => void): void {
  const total = buffers.reduce((sum, b) => sum + b.byteLength, 0);
  writev(fd, buffers, (error, written) => {
    if (error) return done(error);
    if (written >= total) return done(null);
    const rest = Buffer.concat(buffers).subarray(written);
    writeAll(fd, [rest], done);
  });
}

function parseHeader(line: Buffer): { contentType: string; size: number } {
  const parsed = JSON.parse(line.toString('utf8')) as { contentType: string; size: number };
  return { contentType: parsed.contentType, size: parsed.size };
}

function ifMissing<T>(value: T): (error: NodeJS.ErrnoException) => T {
  return (error) => {
    if (error.code === 'ENOENT') return value;
    throw error;
  };
}
