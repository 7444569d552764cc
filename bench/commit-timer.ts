/**
 * Times `COMMIT` statements (where SQLite fsyncs the WAL with synchronous=FULL) by
 * wrapping a better-sqlite3 `exec`. better-sqlite3 is synchronous, so this time is time
 * the event loop was blocked. Used on an engine's `db` instance (figure 1) and on
 * `Database.prototype` in the server child (bench/probe.ts).
 */
export interface CommitStats {
  commits: number;
  /** Total time inside `exec('COMMIT')`, ms. */
  commitMs: number;
  maxCommitMs: number;
  /** Commits that took longer than {@link SLOW_COMMIT_MS} (in practice: the ones that ran a WAL checkpoint), and their total time. */
  slowCommits: number;
  slowCommitMs: number;
}

export const SLOW_COMMIT_MS = 2;

export function timeCommits(target: { exec(sql: string): unknown }): CommitStats {
  const stats: CommitStats = { commits: 0, commitMs: 0, maxCommitMs: 0, slowCommits: 0, slowCommitMs: 0 };
  const exec = target.exec;
  target.exec = function (this: unknown, sql: string) {
    if (sql !== 'COMMIT') return exec.call(this, sql);
    const t = performance.now();
    try {
      return exec.call(this, sql);
    } finally {
      const d = performance.now() - t;
      stats.commits++;
      stats.commitMs += d;
      stats.maxCommitMs = Math.max(stats.maxCommitMs, d);
      if (d > SLOW_COMMIT_MS) {
        stats.slowCommits++;
        stats.slowCommitMs += d;
      }
    }
  };
  return stats;
}
