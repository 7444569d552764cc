/**
 * Optional instrument for the server child (`npm run bench -- --probe`), loaded with
 * `--import ./bench/probe.ts` before main.ts; src/ is unchanged. It times every COMMIT
 * (fsync, on the event loop) and tracks event-loop delay. On SIGUSR2 it writes a
 * snapshot to $SPOOL_BENCH_PROBE_FILE (cumulative commit figures, event-loop delay since
 * the previous SIGUSR2) and resets the event-loop-delay histogram; nothing is written
 * otherwise, so the probe costs the server next to nothing between snapshots.
 */
import { renameSync, writeFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import { timeCommits } from './commit-timer.js';

export interface ProbeSnapshot {
  /** 1 for the first snapshot, then one more per SIGUSR2. */
  seq: number;
  commits: number;
  commitMs: number;
  maxCommitMs: number;
  /** Event-loop delay since the last reset, ms. */
  loopDelay: { p50: number; p99: number; max: number };
  /** process.memoryUsage() at the snapshot, bytes. */
  memory: NodeJS.MemoryUsage;
}

const file = process.env['SPOOL_BENCH_PROBE_FILE'];
if (file !== undefined) {
  const stats = timeCommits(Database.prototype as unknown as { exec(sql: string): unknown });
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  let seq = 0;
  process.on('SIGUSR2', () => {
    const snapshot: ProbeSnapshot = {
      seq: ++seq,
      ...stats,
      loopDelay: { p50: delay.percentile(50) / 1e6, p99: delay.percentile(99) / 1e6, max: delay.max / 1e6 },
      memory: process.memoryUsage(),
    };
    writeFileSync(`${file}.tmp`, JSON.stringify(snapshot));
    renameSync(`${file}.tmp`, file);
    delay.reset();
  });
}
