import type { RetryInfo } from '../../ports/sql.js';
import { ConcurrencyConflictError } from '../../ports/sql-errors.js';

/**
 * The one optimistic-concurrency retry helper behind `Sql.transaction`.
 *
 * What counts as a conflict (retried):
 * - SQLSTATE `40001` (serialization_failure): PostgreSQL at REPEATABLE READ when a row
 *   read by this transaction was changed by a concurrent one; Aurora DSQL for every
 *   optimistic-concurrency conflict, detected at COMMIT;
 * - DSQL's OCC codes `OC000` (data conflict: "change conflicts with another transaction")
 *   and `OC001` (schema conflict: "schema has been updated by another transaction"),
 *   which DSQL puts in the message text, e.g. `... please retry: (OC001)`, and which
 *   some wrappers report as the `code` itself.
 *
 * The helper looks at the error, then every error in its `cause` chain and in
 * `AggregateError.errors`, so a conflict wrapped by a driver, an ORM or our own code
 * is still recognised.
 *
 * Not retried: deadlock (`40P01`). Deadlocks come from pessimistic row locks taken in
 * inconsistent order; DSQL takes no locks and cannot deadlock, and on PostgreSQL a
 * deadlock is a lock-ordering bug that would recur on retry after a one-second
 * detection delay each time. SQLite's `SQLITE_BUSY` is not retried either: with
 * `BEGIN IMMEDIATE` and a busy timeout it only means the timeout expired.
 */
export interface OccRetryOptions {
  /** Attempts in all, the first included (default 5). */
  readonly maxAttempts?: number;
  /** Backoff cap for the first retry, doubling per retry (default 10 ms). */
  readonly baseDelayMs?: number;
  /** Upper bound of any single wait (default 1000 ms). */
  readonly maxDelayMs?: number;
  /** Uniform [0, 1) source for the jitter (default `Math.random`). */
  readonly random?: () => number;
  /** Waits `ms` (default a timer); tests inject a recorder. */
  readonly sleep?: (ms: number) => Promise<void>;
  readonly onRetry?: (retry: RetryInfo) => void;
}

export const OCC_DEFAULTS = { maxAttempts: 5, baseDelayMs: 10, maxDelayMs: 1000 } as const;

const CONFLICT_CODES: ReadonlySet<string> = new Set(['40001', 'OC000', 'OC001']);
/** DSQL's OCC code anywhere in a message (`(OC000)`), or a SQLSTATE spelled out in one. */
const CONFLICT_IN_MESSAGE = /\bOC00[01]\b|\bSQLSTATE\W{0,3}40001\b/i;
/** Bounds the walk through causes (and protects against cycles). */
const MAX_ERRORS_INSPECTED = 32;

/**
 * Runs `fn` and, while it fails with a concurrency conflict, runs it again after a
 * full-jitter exponential backoff (`random() * min(maxDelayMs, baseDelayMs * 2^(n-1))`
 * before retry `n`). `fn` receives the attempt number (1-based). Any other error is
 * rethrown at once; after `maxAttempts` conflicts it throws {@link ConcurrencyConflictError}
 * with the last conflict as `cause`.
 *
 * @example
 * const user = await withOccRetry(() => db.transaction().execute(updateUser), { maxAttempts: 8 });
 */
export async function withOccRetry<T>(fn: (attempt: number) => Promise<T>, options: OccRetryOptions = {}): Promise<T> {
  const maxAttempts = options.maxAttempts ?? OCC_DEFAULTS.maxAttempts;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) throw new RangeError(`maxAttempts must be a positive integer, got ${maxAttempts}`);
  const sleep = options.sleep ?? defaultSleep;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (error) {
      if (!isConcurrencyConflict(error)) throw error;
      if (attempt >= maxAttempts) throw new ConcurrencyConflictError(attempt, error);
      const delayMs = backoffDelay(attempt, options);
      options.onRetry?.({ attempt, delayMs, error });
      await sleep(delayMs);
    }
  }
}

/** Full-jitter delay before the retry that follows failed attempt `attempt` (1-based). */
export function backoffDelay(attempt: number, options: Pick<OccRetryOptions, 'baseDelayMs' | 'maxDelayMs' | 'random'> = {}): number {
  const base = options.baseDelayMs ?? OCC_DEFAULTS.baseDelayMs;
  const max = options.maxDelayMs ?? OCC_DEFAULTS.maxDelayMs;
  // 2^30 is far past any cap; keeps the exponent from overflowing to Infinity.
  const ceiling = Math.min(max, base * 2 ** Math.min(attempt - 1, 30));
  const r = Math.min(Math.max((options.random ?? Math.random)(), 0), 1);
  return Math.floor(r * ceiling);
}

/** True when `error`, or any error it wraps, is an optimistic-concurrency conflict. */
export function isConcurrencyConflict(error: unknown): boolean {
  return someError(error, (e) => {
    const code = e['code'];
    if (typeof code === 'string' && CONFLICT_CODES.has(code.toUpperCase())) return true;
    const message = e['message'];
    return typeof message === 'string' && CONFLICT_IN_MESSAGE.test(message);
  });
}

/** Breadth-first over `error`, its `cause` chain and `AggregateError` members. */
export function someError(error: unknown, test: (e: Record<string, unknown>) => boolean): boolean {
  const queue: unknown[] = [error];
  const seen = new Set<unknown>();
  while (queue.length > 0 && seen.size < MAX_ERRORS_INSPECTED) {
    const current = queue.shift();
    if (typeof current !== 'object' || current === null || seen.has(current)) continue;
    seen.add(current);
    const record = current as Record<string, unknown>;
    if (test(record)) return true;
    if ('cause' in record) queue.push(record['cause']);
    const members = record['errors'];
    if (Array.isArray(members)) queue.push(...(members as unknown[]));
  }
  return false;
}

/** Drops keys set to `undefined`, so per-call options do not erase adapter defaults. */
export function definedOnly<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function defaultSleep(ms: number): Promise<void> {
  return ms <= 0 ? Promise.resolve() : new Promise((resolve) => setTimeout(resolve, ms));
}
