import { ValidationError } from '../errors.js';
import type { Page } from './table.js';

/**
 * Object store port: the subset of S3 the application relies on. Writes are atomic:
 * a reader sees the old object, the new one, or none, never a partial one.
 */
export interface ObjectStore {
  readonly name: string;
  /** With `ifNotExists`, throws ConditionFailedError when the key exists (S3 `If-None-Match: *`). */
  put(key: string, body: string | Uint8Array, options?: PutOptions): Promise<void>;
  get(key: string): Promise<StoredObject | undefined>;
  head(key: string): Promise<ObjectInfo | undefined>;
  /** Deleting a missing key is not an error (as in S3). */
  delete(key: string): Promise<void>;
  /** Keys with this prefix in lexicographic order, at most `limit` (1..1000) per page. */
  list(prefix: string, options?: { limit?: number; cursor?: string }): Promise<Page<ObjectInfo>>;
}

export interface PutOptions {
  readonly contentType?: string;
  readonly ifNotExists?: boolean;
}

export interface ObjectInfo {
  readonly key: string;
  readonly size: number;
  readonly contentType: string;
  /** Epoch milliseconds. */
  readonly lastModified: number;
}

export interface StoredObject extends ObjectInfo {
  readonly body: Uint8Array;
}

const MAX_KEY_BYTES = 1024;
// Printable characters only; a safe subset of S3's recommended key characters plus '=' and ','.
const KEY_CHARS = /^[A-Za-z0-9!_.*'()\-/=,@+ ]+$/;

/**
 * Rejects keys that S3 would refuse or that could escape a directory when stored as files:
 * empty, over 1024 bytes, leading `/`, empty, `.` or `..` segments, control or unusual characters.
 *
 * @example
 * assertValidObjectKey('results/0b7c.json'); // ok
 * assertValidObjectKey('../etc/passwd');     // throws ValidationError
 */
export function assertValidObjectKey(key: string): void {
  const problems: string[] = [];
  if (key.length === 0) problems.push('key is empty');
  if (Buffer.byteLength(key) > MAX_KEY_BYTES) problems.push(`key exceeds ${MAX_KEY_BYTES} bytes`);
  if (!KEY_CHARS.test(key)) problems.push('key contains characters outside [A-Za-z0-9!_.*\'()-/=,@+ ]');
  if (key.startsWith('/') || key.endsWith('/')) problems.push('key starts or ends with "/"');
  if (key.split('/').some((s) => s === '' || s === '.' || s === '..')) problems.push('key has an empty, "." or ".." segment');
  if (problems.length > 0) throw new ValidationError(`invalid object key ${JSON.stringify(key.slice(0, 80))}`, problems);
}
