import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteEngine } from '../src/adapters/embedded/sqlite-engine.js';
import { SqliteQueue } from '../src/adapters/embedded/sqlite-queue.js';

/** A fresh engine (WAL fsync'd per group commit, the default) and `jobs` queue in a temp dir. */
export interface TempQueue {
  readonly engine: SqliteEngine;
  readonly queue: SqliteQueue;
  readonly dir: string;
  /** Database + WAL size in bytes. */
  fileBytes(): number;
  dispose(): void;
}

export function openTempQueue(): TempQueue {
  const dir = mkdtempSync(join(tmpdir(), 'spool-bench-'));
  const path = join(dir, 'spool.db');
  const engine = SqliteEngine.open(path);
  const queue = new SqliteQueue(engine, { name: 'jobs', visibilityTimeoutSeconds: 300, maxReceiveCount: 3, retentionSeconds: 1_209_600 });
  const size = (p: string) => {
    try {
      return statSync(p).size;
    } catch {
      return 0;
    }
  };
  return {
    engine,
    queue,
    dir,
    fileBytes: () => size(path) + size(`${path}-wal`),
    dispose() {
      engine.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A body shaped like a real job message (~150 bytes). */
export function jobBody(i: number): string {
  return JSON.stringify({ jobId: randomUUID(), task: 'echo', data: { i }, createdAt: new Date().toISOString() });
}

export interface WorkloadOptions {
  /** Concurrent producer loops, each sending batches of 10; 0 for a drain-only run. */
  readonly producers: number;
  /** Concurrent consumer loops, each receive(10) then delete. */
  readonly consumers: number;
  /** Stop once this many messages were deleted (count bound). */
  readonly messages: number;
  /** Stop after this long even if fewer were deleted (time bound). */
  readonly timeLimitMs: number;
}

export interface WorkloadResult {
  readonly sent: number;
  readonly deleted: number;
  readonly elapsedMs: number;
  readonly commits: number;
  readonly timedOut: boolean;
}

/**
 * Producers and consumers running concurrently on one event loop, as in the runtime:
 * every send, receive and delete is its own `engine.write`, and group commit merges the
 * writes of one event-loop turn into one fsync'd transaction.
 */
export async function runWorkload(queue: SqliteQueue, engine: SqliteEngine, options: WorkloadOptions): Promise<WorkloadResult> {
  const stop = new AbortController();
  // Every waiting consumer listens on the signal.
  setMaxListeners(options.consumers + 10, stop.signal);
  let reserved = 0;
  let sent = 0;
  let deleted = 0;
  let timedOut = false;
  const commits0 = engine.commits;
  const started = performance.now();
  const timer = setTimeout(() => {
    timedOut = true;
    stop.abort();
  }, options.timeLimitMs);
  const body = jobBody(0);

  const producer = async () => {
    while (!stop.signal.aborted && reserved < options.messages) {
      const n = Math.min(10, options.messages - reserved);
      reserved += n;
      await queue.send(Array.from({ length: n }, () => ({ body })));
      sent += n;
    }
  };
  const consumer = async () => {
    while (!stop.signal.aborted && deleted < options.messages) {
      const batch = await queue.receive({ maxMessages: 10, waitTimeSeconds: 1, signal: stop.signal });
      if (batch.length === 0) continue;
      await queue.delete(batch.map((m) => m.receiptHandle));
      deleted += batch.length;
      if (deleted >= options.messages) stop.abort();
    }
  };
  try {
    await Promise.all([
      ...Array.from({ length: options.producers }, producer),
      ...Array.from({ length: options.consumers }, consumer),
    ]);
  } finally {
    clearTimeout(timer);
  }
  return { sent, deleted, elapsedMs: performance.now() - started, commits: engine.commits - commits0, timedOut };
}

/**
 * Fills the queue with `count` messages quickly: `window` concurrent send() calls of 10
 * per round, which group commit turns into one transaction of window x 10 rows.
 */
export async function preload(queue: SqliteQueue, count: number, timeLimitMs: number, window = 500): Promise<number> {
  const deadline = performance.now() + timeLimitMs;
  const body = jobBody(0);
  let done = 0;
  while (done < count && performance.now() < deadline) {
    const calls = Math.min(window, Math.ceil((count - done) / 10));
    const sizes = Array.from({ length: calls }, (_, i) => Math.min(10, count - done - i * 10));
    await Promise.all(sizes.map((n) => queue.send(Array.from({ length: n }, () => ({ body })))));
    done += sizes.reduce((s, n) => s + n, 0);
  }
  return done;
}
