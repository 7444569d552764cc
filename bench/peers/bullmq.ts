/**
 * BullMQ on the machine's Redis: `Queue.add` / `Queue.addBulk`, one `Worker` with
 * `concurrency` = consumers, `removeOnComplete: true`; the queue is obliterated before and
 * after each variant. The acknowledgement is the worker's `completed` event (emitted once
 * the job was moved to completed, here: removed, in Redis).
 * Connections use ioredis, BullMQ's own driver.
 */
import { Queue, Worker, type ConnectionOptions } from 'bullmq';
import { Redis } from 'ioredis';
import { bounded, produce, Run, type Bounds, type Opened, type Payload, type RunResult, type Variant } from './workload.js';

const HOST = '127.0.0.1';
const PORT = 6379;
const PREFIX = 'spool-bench';

export interface RedisSettings {
  readonly version: string;
  readonly appendonly: string;
  readonly appendfsync: string;
  readonly save: string;
}

export function describeRedisDurability(s: RedisSettings): string {
  const settings = `Redis ${s.version}: appendonly=${s.appendonly}, appendfsync=${s.appendfsync}, save='${s.save}'`;
  if (s.appendonly === 'yes' && s.appendfsync === 'always') return `${settings}: every write is fsync'd to the AOF before the reply (comparable to Spool)`;
  if (s.appendonly === 'yes') {
    const window = s.appendfsync === 'everysec' ? '~1 s' : 'up to ~30 s';
    return `${settings}: the AOF is fsync'd ${s.appendfsync === 'everysec' ? 'once a second' : 'when the OS flushes'}, so a crash can lose the last ${window} of acknowledged jobs (less durable than Spool)`;
  }
  if (s.save.trim() !== '') return `${settings}: no AOF, only periodic RDB snapshots; a crash loses everything since the last snapshot (less durable than Spool)`;
  return `${settings}: no AOF and no RDB snapshots, so Redis keeps nothing on disk and a restart or crash loses every queued job (far less durable than Spool)`;
}

export async function openBullmq(): Promise<Opened & { settings?: RedisSettings }> {
  const probe = new Redis({ host: HOST, port: PORT, lazyConnect: true, connectTimeout: 2_000, maxRetriesPerRequest: 1, retryStrategy: () => null });
  try {
    await probe.connect();
  } catch (error) {
    probe.disconnect();
    return { skipped: `Redis at ${HOST}:${PORT} unreachable (${error instanceof Error ? error.message : String(error)})` };
  }
  let settings: RedisSettings;
  try {
    const info = await probe.info('server');
    const config = async (key: string) => {
      try {
        const reply = (await probe.config('GET', key)) as string[];
        return reply[1] ?? '(not set)';
      } catch (error) {
        return `(CONFIG GET refused: ${error instanceof Error ? error.message : String(error)})`;
      }
    };
    settings = {
      version: /redis_version:([^\r\n]+)/.exec(info)?.[1] ?? 'unknown',
      appendonly: await config('appendonly'),
      appendfsync: await config('appendfsync'),
      save: await config('save'),
    };
  } catch (error) {
    return { skipped: `Redis at ${HOST}:${PORT} did not answer INFO (${error instanceof Error ? error.message : String(error)})` };
  } finally {
    probe.disconnect();
  }

  const connection = (): ConnectionOptions => ({ host: HOST, port: PORT, maxRetriesPerRequest: null });

  return {
    settings,
    durability: describeRedisDurability(settings),
    session: {
      run: (variant, bounds) => runBullmq(variant, bounds, connection),
      close: async () => {},
    },
  };
}

async function runBullmq(
  variant: Variant,
  bounds: Bounds,
  connection: () => ConnectionOptions,
): Promise<RunResult> {
  const name = `peers-${variant.consumers}-${variant.batched ? 'batched' : 'single'}`;
  const errors: string[] = [];
  const noteError = (where: string) => (error: Error) => {
    if (errors.length < 3) errors.push(`${where}: ${error.message}`);
  };
  const queue = new Queue<Payload>(name, { connection: connection(), prefix: PREFIX, defaultJobOptions: { removeOnComplete: true, removeOnFail: true } });
  queue.on('error', noteError('queue'));
  let worker: Worker<Payload> | undefined;
  try {
    await queue.waitUntilReady();
    await queue.obliterate({ force: true });
    let current: Run | undefined;
    worker = new Worker<Payload>(
      name,
      async (job) => {
        current?.handle(job.data);
      },
      { connection: connection(), prefix: PREFIX, concurrency: variant.consumers, autorun: true },
    );
    worker.on('error', noteError('worker'));
    worker.on('failed', (_job, error) => noteError('job')(error));
    worker.on('completed', () => current?.ack(1));
    await worker.waitUntilReady();
    const run = new Run(bounds);
    current = run;
    const producing = produce(run, variant.consumers, variant.batched, (messages) =>
      messages.length === 1 ? queue.add('job', messages[0]!) : queue.addBulk(messages.map((data) => ({ name: 'job', data }))),
    );
    await run.done;
    await bounded(producing, 10_000);
    const result = run.result();
    return { ...result, notes: [...result.notes, ...errors] };
  } finally {
    // Bounded: a stuck close must not hang the benchmark.
    const w = worker;
    await bounded(
      (async () => {
        if (w !== undefined) {
          await w.close().catch(() => {});
        }
        await queue.obliterate({ force: true }).catch(() => {});
        await queue.close().catch(() => {});
      })(),
      15_000,
    );
  }
}
