/**
 * pg-boss 10 on the machine's PostgreSQL, in its own schema (dropped before and after).
 * Enqueue: `boss.send` (single) / `boss.insert` (10 per call). Consume: one
 * `boss.work(name, { batchSize: 10, pollingIntervalSeconds: 0.5 })` registration per
 * consumer (pg-boss 10 has no `localConcurrency`); the handler gets up to 10 jobs and
 * pg-boss completes them when it returns. pg-boss does not await that `complete`, so the
 * acknowledgement count is read from the job table (state `completed`).
 *
 * `style: 'fetch'` (a detail line, not the headline) replaces `work()` with loops of
 * `boss.fetch(name, { batchSize: 10 })` + awaited `boss.complete(name, ids)` that only
 * sleep (0.5 s) when a fetch came back empty: what pg-boss and PostgreSQL sustain when
 * the per-registration polling interval is not the limit.
 */
import pg from 'pg';
import PgBoss from 'pg-boss';
import { bounded, produce, Run, sleep, until, type Bounds, type Payload, type PeerSession, type RunResult, type Variant } from './workload.js';

const CONNECTION = { host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test' } as const;
export const PGBOSS_SCHEMA = 'spool_bench_pgboss';
const POLLING_INTERVAL_SECONDS = 0.5;
/** Pool size: room for 10 producers and 10 consumers at once (pg-boss's default is 10). */
export const PGBOSS_POOL = 20;

export type ConsumerStyle = 'work' | 'fetch';

export interface PostgresSettings {
  readonly version: string;
  readonly synchronousCommit: string;
  readonly fsync: string;
  readonly walSyncMethod: string;
}

export function describePostgresDurability(s: PostgresSettings): string {
  const settings = `PostgreSQL ${s.version}: synchronous_commit=${s.synchronousCommit}, fsync=${s.fsync}, wal_sync_method=${s.walSyncMethod}`;
  if (s.fsync === 'on' && s.synchronousCommit !== 'off') return `${settings}: every commit waits for its WAL flush to disk (comparable to Spool)`;
  if (s.fsync === 'on') return `${settings}: commits return before their WAL is flushed, so a crash can lose the last few hundred ms of acknowledged jobs (less durable than Spool)`;
  return `${settings}: fsync is off, so a crash can lose or corrupt committed data (far less durable than Spool)`;
}

async function admin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ ...CONNECTION, connectionTimeoutMillis: 2_000 });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

const dropSchema = () => admin((c) => c.query(`DROP SCHEMA IF EXISTS ${PGBOSS_SCHEMA} CASCADE`));

export type PgBossOpened =
  | { readonly skipped: string }
  | {
      readonly session: PeerSession;
      readonly durability: string;
      readonly settings: PostgresSettings;
      /** The same variant with fetch()+complete() loops instead of work(). */
      readonly runFetch: (variant: Variant, bounds: Bounds) => Promise<RunResult>;
    };

export async function openPgBoss(): Promise<PgBossOpened> {
  let settings: PostgresSettings;
  try {
    settings = await admin(async (c) => {
      const show = async (name: string) => String(((await c.query(`SHOW ${name}`)).rows[0] as Record<string, unknown>)[name]);
      const result = {
        version: await show('server_version'),
        synchronousCommit: await show('synchronous_commit'),
        fsync: await show('fsync'),
        walSyncMethod: await show('wal_sync_method'),
      };
      await c.query(`DROP SCHEMA IF EXISTS ${PGBOSS_SCHEMA} CASCADE`);
      return result;
    });
  } catch (error) {
    return { skipped: `PostgreSQL at ${CONNECTION.host}:${CONNECTION.port} (database ${CONNECTION.database}, user ${CONNECTION.user}) unreachable (${error instanceof Error ? error.message : String(error)})` };
  }
  const errors: string[] = [];
  const boss = new PgBoss({ ...CONNECTION, schema: PGBOSS_SCHEMA, max: PGBOSS_POOL, supervise: false, schedule: false, migrate: true });
  boss.on('error', (error: Error) => {
    if (errors.length < 3) errors.push(error.message);
  });
  try {
    await boss.start();
  } catch (error) {
    await bounded(boss.stop({ graceful: false }), 5_000);
    await bounded(dropSchema(), 5_000);
    return { skipped: `pg-boss could not start (${error instanceof Error ? error.message : String(error)})` };
  }
  const run = (style: ConsumerStyle) => async (variant: Variant, bounds: Bounds) => {
    errors.length = 0;
    const result = await runPgBoss(boss, style, variant, bounds);
    return { ...result, notes: [...result.notes, ...errors.map((e) => `pg-boss error: ${e}`)] };
  };
  return {
    settings,
    durability: describePostgresDurability(settings),
    session: {
      run: run('work'),
      close: async () => {
        await bounded(boss.stop({ graceful: false, close: true }), 10_000);
        await bounded(dropSchema(), 10_000);
      },
    },
    runFetch: run('fetch'),
  };
}

let sequence = 0;

async function runPgBoss(boss: PgBoss, style: ConsumerStyle, variant: Variant, bounds: Bounds): Promise<RunResult> {
  // A fresh queue (its own partition of the job table) per run, warm-up included.
  const name = `peers-${style}-${variant.consumers}-${variant.batched ? 'batched' : 'single'}-${++sequence}`;
  const db = boss.getDb();
  const count = async (state: string) =>
    Number(((await db.executeSql(`SELECT count(*)::int AS n FROM ${PGBOSS_SCHEMA}.job WHERE name = $1 AND state = $2`, [name, state])).rows[0] as { n: number }).n);
  await boss.createQueue(name);
  let current: Run | undefined;
  const handler = async (jobs: PgBoss.Job<Payload>[]) => {
    for (const job of jobs) current?.handle(job.data);
  };
  const workers: string[] = [];
  let fetchLoops: Promise<void> | undefined;
  try {
    if (style === 'work') {
      for (let i = 0; i < variant.consumers; i++) workers.push(await boss.work<Payload>(name, { batchSize: 10, pollingIntervalSeconds: POLLING_INTERVAL_SECONDS }, handler));
    }
    const run = new Run(bounds);
    current = run;
    if (style === 'fetch') {
      const loop = async () => {
        while (!run.stopped) {
          const jobs = await boss.fetch<Payload>(name, { batchSize: 10 });
          if (jobs.length === 0) {
            await sleep(POLLING_INTERVAL_SECONDS * 1000);
            continue;
          }
          await handler(jobs);
          await boss.complete(name, jobs.map((j) => j.id));
          run.ack(jobs.length);
        }
      };
      fetchLoops = Promise.all(Array.from({ length: variant.consumers }, loop)).then(
        () => {},
        (error: unknown) => run.finish(`consumer failed: ${error instanceof Error ? error.message : String(error)}`),
      );
    } else {
      // work() completes each batch without awaiting it: watch the job table instead.
      void (async () => {
        while (!run.stopped) {
          if (run.handled >= bounds.messages) {
            const done = await count('completed');
            if (done >= bounds.messages) run.ack(done);
            else await sleep(5);
          } else {
            await sleep(10);
          }
        }
      })().catch((error: unknown) => run.finish(`watching completions failed: ${error instanceof Error ? error.message : String(error)}`));
    }
    const producing = produce(run, variant.consumers, variant.batched, (messages) =>
      messages.length === 1 ? boss.send(name, messages[0]!) : boss.insert(messages.map((data) => ({ name, data }))),
    );
    await run.done;
    await bounded(producing, 10_000);
    const acked = style === 'work' ? Math.min(run.enqueued, await count('completed')) : run.acked;
    return run.result(acked);
  } finally {
    current = undefined;
    for (const id of workers) await boss.offWork({ id });
    await bounded(fetchLoops ?? Promise.resolve(), 5_000);
    // Completions pg-boss fired without awaiting: let them land before the queue goes.
    await until(async () => (await count('active')) === 0, 5_000, 50).catch(() => false);
    // pg-boss 10's deleteQueue refuses a queue that still has jobs (completed ones stay until
    // maintenance archives them, and maintenance is off): empty it first.
    await db.executeSql(`DELETE FROM ${PGBOSS_SCHEMA}.job WHERE name = $1`, [name]).catch(() => {});
    await boss.deleteQueue(name).catch(() => {});
  }
}
