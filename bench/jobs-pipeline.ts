/**
 * `npx tsx bench/jobs-pipeline.ts [--jobs=20000] [--rounds=3] [--producers=64]`
 *
 * The jobs pipeline without HTTP, in this process: the embedded ports (`createEmbeddedPorts`
 * on a temp data dir), `JobService.submit` from `--producers` concurrent loops, and the
 * jobs consumer run by a `QueueEventSource` with the server's defaults (batches of 10,
 * 4 loops). Per round: jobs/s from the first submit until the jobs queue is empty, and
 * this thread's CPU per job (from /proc, so other load on the machine changes it little),
 * with the number of SQLite commits per job. For comparing changes to the engine, the
 * adapters and the job domain; the HTTP layer is measured by `bench/e2e-cpu.ts`.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { loadConfig } from '../src/config.js';
import { JobService } from '../src/domain/jobs/job-service.js';
import { systemClock } from '../src/ports/clock.js';
import { createConsumers } from '../src/runtime/consumers.js';
import { createEmbeddedPorts } from '../src/runtime/embedded-ports.js';
import { QueueEventSource } from '../src/runtime/local/queue-event-source.js';
import type { SqliteEngine } from '../src/adapters/embedded/sqlite-engine.js';
import { SLOW_COMMIT_MS, timeCommits } from './commit-timer.js';
import { fmt, rate } from './stats.js';

function flag(name: string, fallback: number): number {
  const arg = process.argv.find((a) => a.startsWith(`--${name}=`));
  const value = arg === undefined ? fallback : Number(arg.slice(name.length + 3));
  if (!Number.isInteger(value) || value < 1 || value > 1_000_000) throw new Error(`--${name} must be a positive integer`);
  return value;
}

/** CPU ms (user + system) of this process's main thread. */
function mainThreadMs(): number {
  const text = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** Bytes this process wrote through write(2)-like calls so far (WAL frames, checkpoints, result files). */
function bytesWritten(): number {
  const match = /^wchar: (\d+)$/m.exec(readFileSync('/proc/self/io', 'utf8'));
  return match === null ? 0 : Number(match[1]);
}

function processMs(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
}

async function main(): Promise<void> {
  const jobs = flag('jobs', 20_000);
  const rounds = flag('rounds', 3);
  const producers = flag('producers', 64);
  const dir = mkdtempSync(join(tmpdir(), 'spool-pipeline-'));
  const logger = pino({ level: 'warn' });
  const config = loadConfig({ SPOOL_DATA_DIR: dir, SPOOL_ALERT_SUBSCRIBERS: 'log' });
  const ports = createEmbeddedPorts(config, logger);
  // The engine behind the embedded queues, for its commit counter.
  const engine = (ports.jobsQueue as unknown as { engine: SqliteEngine }).engine;
  const commitTimes = timeCommits(engine.db as unknown as { exec(sql: string): unknown });
  const service = new JobService({ jobs: ports.jobsTable, queue: ports.jobsQueue, results: ports.results, clock: systemClock });
  const consumers = createConsumers(config, ports, logger);
  const source = new QueueEventSource(consumers.jobs, { batchSize: 10, batchWindowMs: 0, concurrency: 4, handlerTimeoutMs: 60_000 }, logger);
  source.start();
  const drained = async (timeoutMs: number): Promise<boolean> => {
    const until = performance.now() + timeoutMs;
    while (performance.now() < until) {
      const s = await ports.jobsQueue.stats();
      if (s.visible + s.inFlight + s.delayed === 0) return true;
      await new Promise((r) => setTimeout(r, 20));
    }
    return false;
  };
  const burst = async (count: number, base: number) => {
    let next = 0;
    await Promise.all(
      Array.from({ length: producers }, async () => {
        while (next < count) {
          const i = base + next++;
          await service.submit({ task: 'echo', data: { i } });
        }
      }),
    );
  };
  try {
    await burst(2_000, 0);
    if (!(await drained(60_000))) throw new Error('warm-up did not drain');
    for (let round = 1; round <= rounds; round++) {
      const cpu0 = mainThreadMs();
      const proc0 = processMs();
      const commits0 = engine.commits;
      const written0 = bytesWritten();
      const commitMs0 = commitTimes.commitMs;
      const slow0 = { n: commitTimes.slowCommits, ms: commitTimes.slowCommitMs };
      commitTimes.maxCommitMs = 0;
      const t0 = performance.now();
      await burst(jobs, round * 1_000_000);
      const submitted = performance.now();
      const ok = await drained(120_000);
      const elapsed = performance.now() - t0;
      const cpu = mainThreadMs() - cpu0;
      process.stdout.write(
        `round ${round}: ${fmt(jobs)} jobs, ${ok ? `${fmt(rate(jobs, elapsed))} jobs/s` : 'NOT drained'} (submits ${fmt(rate(jobs, submitted - t0))}/s); ` +
          `main-thread CPU ${fmt(cpu / jobs, 3)} ms/job, process ${fmt((processMs() - proc0) / jobs, 3)} ms/job; ` +
          `${fmt((engine.commits - commits0) / jobs, 2)} commits/job, ${fmt((bytesWritten() - written0) / jobs / 1024, 1)} KiB written/job; ` +
          `COMMIT ${fmt((commitTimes.commitMs - commitMs0) / jobs, 3)} ms/job, longest ${fmt(commitTimes.maxCommitMs, 1)} ms, ` +
          `${commitTimes.slowCommits - slow0.n} over ${SLOW_COMMIT_MS} ms (${fmt(commitTimes.slowCommitMs - slow0.ms, 0)} ms in all)\n`,
      );
    }
  } finally {
    await source.stop(5_000);
    await ports.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
