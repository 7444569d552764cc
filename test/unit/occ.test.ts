import { describe, expect, it } from 'vitest';
import { backoffDelay, isConcurrencyConflict, withOccRetry, type OccRetryOptions } from '../../src/adapters/sql/occ.js';
import { ConflictError } from '../../src/errors.js';
import { ConcurrencyConflictError, type RetryInfo } from '../../src/ports/sql.js';

const withCode = (code: string, message = 'conflict') => Object.assign(new Error(message), { code });

/** Options that never really wait and record what the helper asked for. */
function recorder(extra: OccRetryOptions = {}) {
  const sleeps: number[] = [];
  const retries: RetryInfo[] = [];
  const options: OccRetryOptions = {
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    onRetry: (retry) => retries.push(retry),
    random: () => 0.5,
    ...extra,
  };
  return { sleeps, retries, options };
}

/** A function failing with `errors` in turn, then returning 'ok'. */
function failing(...errors: unknown[]) {
  const calls: number[] = [];
  const fn = async (attempt: number) => {
    calls.push(attempt);
    const error = errors[attempt - 1];
    if (error !== undefined) throw error;
    return 'ok';
  };
  return { fn, calls };
}

describe('withOccRetry', () => {
  it.each([
    ['SQLSTATE 40001 in code', withCode('40001', 'could not serialize access due to concurrent update')],
    ['DSQL OC000 in code', withCode('OC000')],
    ['DSQL OC001 in code', withCode('OC001')],
    ['DSQL OC000 in the message only', new Error('change conflicts with another transaction, please retry: (OC000)')],
    ['DSQL OC001 in the message only', new Error('schema has been updated by another transaction, please retry: (OC001)')],
    ['SQLSTATE 40001 spelled out in a message', new Error('ERROR: could not serialize (SQLSTATE 40001)')],
    ['40001 in a cause', new Error('query failed', { cause: withCode('40001') })],
    ['OC000 two causes deep', new Error('repository failed', { cause: new Error('driver failed', { cause: new Error('... (OC000)') }) })],
    ['40001 in an AggregateError member', new AggregateError([new Error('other'), withCode('40001')], 'several')],
    ['40001 in an AggregateError inside a cause', new Error('outer', { cause: new AggregateError([withCode('40001')]) })],
    ['a plain object with the code', { code: '40001', message: 'not an Error instance' }],
  ])('retries a conflict: %s', async (_name, conflict) => {
    const { fn, calls } = failing(conflict);
    const { options, retries } = recorder();
    await expect(withOccRetry(fn, options)).resolves.toBe('ok');
    expect(calls).toEqual([1, 2]);
    expect(retries).toHaveLength(1);
    expect(retries[0]).toMatchObject({ attempt: 1, error: conflict });
  });

  it.each([
    ['unique violation 23505', withCode('23505', 'duplicate key value violates unique constraint')],
    ['deadlock 40P01 (lock ordering, not OCC: DSQL cannot deadlock)', withCode('40P01', 'deadlock detected')],
    ['SQLITE_BUSY (the busy timeout expired)', withCode('SQLITE_BUSY', 'database is locked')],
    ['a plain error', new Error('boom')],
    ['a similar but different code in a message', new Error('code OC0001 is not an OCC code')],
    ['a thrown string', 'OC000'],
    ['undefined', undefined],
  ])('does not retry: %s', async (_name, error) => {
    let calls = 0;
    const thrower = async () => {
      calls++;
      throw error;
    };
    await expect(withOccRetry(thrower, recorder().options)).rejects.toBe(error);
    expect(calls).toBe(1);
  });

  it('runs once and returns when nothing fails', async () => {
    const { fn, calls } = failing();
    const { options, sleeps } = recorder();
    await expect(withOccRetry(fn, options)).resolves.toBe('ok');
    expect(calls).toEqual([1]);
    expect(sleeps).toEqual([]);
  });

  it('stops retrying at the first error that is not a conflict', async () => {
    const fatal = new Error('fatal');
    const { fn, calls } = failing(withCode('40001'), fatal);
    await expect(withOccRetry(fn, recorder().options)).rejects.toBe(fatal);
    expect(calls).toEqual([1, 2]);
  });

  it('gives up after maxAttempts (default 5) with ConcurrencyConflictError carrying the last conflict', async () => {
    const conflicts = Array.from({ length: 10 }, (_, i) => withCode('40001', `conflict ${i + 1}`));
    const { fn, calls } = failing(...conflicts);
    const { options, retries } = recorder();
    const error = await withOccRetry(fn, options).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConcurrencyConflictError);
    expect(error).toBeInstanceOf(ConflictError);
    expect(error).toMatchObject({ name: 'ConcurrencyConflictError', code: 'concurrency_conflict', details: { attempts: 5 } });
    expect((error as Error).cause).toBe(conflicts[4]);
    expect(calls).toEqual([1, 2, 3, 4, 5]);
    expect(retries.map((r) => r.attempt)).toEqual([1, 2, 3, 4]);
  });

  it('honours a custom maxAttempts, 1 meaning no retry at all', async () => {
    const once = failing(withCode('OC000'));
    await expect(withOccRetry(once.fn, { ...recorder().options, maxAttempts: 1 })).rejects.toMatchObject({ details: { attempts: 1 } });
    expect(once.calls).toEqual([1]);
    await expect(withOccRetry(async () => 1, { maxAttempts: 0 })).rejects.toBeInstanceOf(RangeError);
  });

  it('waits a full-jitter exponential backoff, capped at maxDelayMs, before each retry', async () => {
    const conflicts = Array.from({ length: 7 }, () => withCode('40001'));
    const { fn } = failing(...conflicts);
    // random() = 1 exposes the ceiling of each window: base * 2^(n-1), capped.
    const { options, sleeps, retries } = recorder({ random: () => 1, baseDelayMs: 10, maxDelayMs: 100, maxAttempts: 8 });
    await withOccRetry(fn, options);
    expect(sleeps).toEqual([10, 20, 40, 80, 100, 100, 100]);
    expect(retries.map((r) => r.delayMs)).toEqual(sleeps);
  });

  it('scales the delay by the random draw (full jitter) and never goes negative or past the cap', async () => {
    const draws = [0, 0.25, 0.999, -3, 7];
    let i = 0;
    const random = () => draws[i++ % draws.length]!;
    const { fn } = failing(...draws.map(() => withCode('40001')));
    const { options, sleeps } = recorder({ random, baseDelayMs: 100, maxDelayMs: 1000, maxAttempts: 6 });
    await withOccRetry(fn, options);
    // Windows: 100, 200, 400, 800, 1000 (capped); out-of-range draws are clamped to [0, 1].
    expect(sleeps).toEqual([0, 50, 399, 0, 1000]);
  });

  it('uses bounded defaults: 10 ms base, 1 s cap, even for huge attempt numbers', () => {
    const ceiling = (attempt: number) => backoffDelay(attempt, { random: () => 1 });
    expect(ceiling(1)).toBe(10);
    expect(ceiling(2)).toBe(20);
    expect(ceiling(8)).toBe(1000);
    expect(ceiling(10_000)).toBe(1000);
  });
});

describe('isConcurrencyConflict', () => {
  it('survives cyclic cause chains', () => {
    const a = new Error('a');
    const b = new Error('b', { cause: a });
    Object.defineProperty(a, 'cause', { value: b });
    expect(isConcurrencyConflict(a)).toBe(false);
    Object.defineProperty(b, 'cause', { value: withCode('40001') });
    expect(isConcurrencyConflict(a)).toBe(true);
  });

  it('accepts lower-case DSQL codes in code', () => {
    expect(isConcurrencyConflict(withCode('oc001'))).toBe(true);
  });
});
