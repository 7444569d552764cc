import { timeCommits, type CommitStats } from './commit-timer.js';
import { openTempQueue, runWorkload, type WorkloadOptions, type WorkloadResult } from './queue-workload.js';
import type { Mode, Section } from './report.js';
import { fmt, rate } from './stats.js';

export const QUEUE_TARGET = 20_000;

/** The headline shape: 16 producer loops and 16 consumer loops on one event loop. */
export const HEADLINE = { producers: 16, consumers: 16 } as const;

export function workloadSize(mode: Mode): Pick<WorkloadOptions, 'messages' | 'timeLimitMs'> {
  return mode === 'quick' ? { messages: 60_000, timeLimitMs: 6_000 } : { messages: 300_000, timeLimitMs: 30_000 };
}

/** One workload on a fresh temp-dir queue, with the time spent in COMMIT (fsync). */
export async function freshRun(options: WorkloadOptions): Promise<WorkloadResult & { commitStats: CommitStats }> {
  const temp = openTempQueue();
  try {
    const commitStats = timeCommits(temp.engine.db);
    return { ...(await runWorkload(temp.queue, temp.engine, options)), commitStats };
  } finally {
    temp.dispose();
  }
}

const describe = (r: WorkloadResult & { commitStats: CommitStats }) =>
  `${fmt(rate(r.deleted, r.elapsedMs))} msg/s, ${fmt(rate(r.commits, r.elapsedMs))} commits/s, ${fmt(r.deleted / Math.max(1, r.commits), 1)} msg/commit` +
  ` (${fmt(r.deleted)} messages in ${fmt(r.elapsedMs / 1000, 1)} s${r.timedOut ? ', stopped by the time limit' : ''}); COMMIT (fsync) blocked the event loop` +
  ` ${((r.commitStats.commitMs / r.elapsedMs) * 100).toFixed(0)}% of the time, mean ${(r.commitStats.commitMs / Math.max(1, r.commitStats.commits)).toFixed(2)} ms,` +
  ` max ${r.commitStats.maxCommitMs.toFixed(1)} ms`;

/** Figure 1: send + receive + delete through SqliteQueue, batches of 10, producers and consumers concurrent. */
export async function queueEngine(mode: Mode): Promise<{ section: Section; headline: WorkloadResult }> {
  const size = workloadSize(mode);
  // Warm-up (JIT, page cache); not reported.
  await freshRun({ ...HEADLINE, messages: 5_000, timeLimitMs: 3_000 });
  const headline = await freshRun({ ...HEADLINE, ...size });
  const small = await freshRun({ producers: 4, consumers: 4, messages: size.messages / 3, timeLimitMs: size.timeLimitMs });
  const throughput = rate(headline.deleted, headline.elapsedMs);
  return {
    headline,
    section: {
      title: '1. Queue engine: send + receive + delete',
      method: [
        '`SqliteQueue` used directly on a fresh `SqliteEngine` in a temp dir (WAL, fdatasync per group commit), in the',
        `benchmark process. ${HEADLINE.producers} async producer loops each \`send\` batches of 10 (~150-byte job-shaped bodies) while`,
        `${HEADLINE.consumers} consumer loops each \`receive({ maxMessages: 10, waitTimeSeconds: 1 })\` and \`delete\` what they got, all on one`,
        'event loop as in the runtime; every call is its own `engine.write`, merged by group commit into one fsync per',
        'event-loop turn. The figure is messages deleted per second from the first send until the count bound',
        `(${fmt(size.messages)} messages) or the time bound (${size.timeLimitMs / 1000} s), after a 5,000-message warm-up.`,
        '`engine.commits` gives commits per second; messages per commit is messages deleted / commits (each message',
        'takes part in three writes: send, receive, delete). The time spent in `exec(\'COMMIT\')` (the WAL write;',
        'better-sqlite3 is synchronous, so this blocks the event loop; the fdatasync runs on the thread pool) is measured by wrapping `db.exec`.',
        'The detail line repeats the run with 4 producers and 4 consumers (the runtime\'s default',
        '`SPOOL_WORKER_CONCURRENCY`).',
      ].join('\n'),
      figures: [
        {
          id: '1',
          name: `Queue engine, send+receive+delete (${HEADLINE.producers}x${HEADLINE.producers} loops)`,
          value: `${fmt(throughput)} msg/s`,
          target: `>= ${fmt(QUEUE_TARGET)} msg/s`,
          met: throughput >= QUEUE_TARGET && headline.deleted > 0,
          details: [describe(headline), `4 producers x 4 consumers: ${describe(small)}`],
        },
        {
          id: '1b',
          name: 'Queue engine, commits per second / messages per commit',
          value: `${fmt(rate(headline.commits, headline.elapsedMs))} commits/s, ${fmt(headline.deleted / Math.max(1, headline.commits), 1)} msg/commit`,
        },
      ],
    },
  };
}
