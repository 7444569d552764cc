import { setTimeout as delay } from 'node:timers/promises';
import { pino } from 'pino';
import { loadConfig } from '../src/config.js';
import { QueueEventSource } from '../src/runtime/local/queue-event-source.js';
import type { Consumer } from '../src/runtime/system.js';
import { openTempQueue } from './queue-workload.js';
import type { Mode, Section } from './report.js';
import { fmt, ms, summarize } from './stats.js';

const P50_TARGET_MS = 5;

/**
 * Figure 5: on an idle system, time from `queue.send` resolving (the point where
 * `POST /submit` can answer 202) to the start of the record handler, through the real
 * QueueEventSource long poll with the runtime's default event-source settings.
 */
export async function handlerLatency(mode: Mode): Promise<Section> {
  const count = mode === 'quick' ? 300 : 1000;
  const timeLimitMs = mode === 'quick' ? 20_000 : 90_000;
  const gapMs = 10;
  const config = loadConfig({ LOG_LEVEL: 'silent' });
  const logger = pino({ level: 'silent' });
  const temp = openTempQueue();

  const startedAt = new Map<number, number>();
  let waiting: { i: number; resolve: () => void } | undefined;
  const consumer: Consumer = {
    queue: temp.queue,
    handler: async (record) => {
      const now = performance.now();
      const { i } = JSON.parse(record.body) as { i: number };
      startedAt.set(i, now);
      if (waiting?.i === i) waiting.resolve();
    },
    policy: {
      queue: temp.queue,
      alerts: { name: 'alerts', publish: async () => 'bench' },
      logger,
      retryBaseSeconds: config.SPOOL_RETRY_BASE_SECONDS,
      maxRetryDelaySeconds: config.SPOOL_JOBS_VISIBILITY_SECONDS,
    },
  };
  const source = new QueueEventSource(
    consumer,
    {
      batchSize: config.SPOOL_WORKER_BATCH_SIZE,
      batchWindowMs: config.SPOOL_WORKER_BATCH_WINDOW_MS,
      concurrency: config.SPOOL_WORKER_CONCURRENCY,
      handlerTimeoutMs: config.SPOOL_HANDLER_TIMEOUT_MS,
    },
    logger,
  );
  source.start();

  const fromAck: number[] = [];
  const fromCall: number[] = [];
  const commit: number[] = [];
  let lost = 0;
  const warmup = 20;
  const deadline = performance.now() + timeLimitMs;
  try {
    for (let i = 0; i < warmup + count && performance.now() < deadline; i++) {
      const seen = new Promise<void>((resolve) => (waiting = { i, resolve }));
      const called = performance.now();
      await temp.queue.send([{ body: JSON.stringify({ i, task: 'echo', data: { i } }) }]);
      const acked = performance.now();
      const arrived = await Promise.race([seen.then(() => true), delay(2_000, false)]);
      waiting = undefined;
      const at = startedAt.get(i);
      if (i >= warmup) {
        if (!arrived || at === undefined) lost++;
        else {
          fromAck.push(at - acked);
          fromCall.push(at - called);
          commit.push(acked - called);
        }
      }
      // Idle gap: lets the delete of this message commit before the next send.
      await delay(gapMs);
    }
  } finally {
    await source.stop(2_000);
    temp.dispose();
  }

  const ack = summarize(fromAck);
  const call = summarize(fromCall);
  const send = summarize(commit);
  const line = (label: string, s: ReturnType<typeof summarize>) =>
    `${label}: p50 ${ms(s.p50)}, p90 ${ms(s.p90)}, p99 ${ms(s.p99)}, max ${ms(s.max)}`;
  return {
    title: '5. Submit -> handler start latency (idle)',
    method: [
      'In the benchmark process: a fresh temp-dir queue consumed by the real `QueueEventSource`',
      '(`src/runtime/local/queue-event-source.ts`) with the default event-source settings (batch size',
      `${config.SPOOL_WORKER_BATCH_SIZE}, window ${config.SPOOL_WORKER_BATCH_WINDOW_MS} ms, concurrency ${config.SPOOL_WORKER_CONCURRENCY}) and a record handler that`,
      'records `performance.now()` on entry. One message at a time is sent; the figure is the time from',
      '`queue.send` resolving (durable: the moment `POST /submit` may answer) to the handler starting. The next',
      `message is sent ${gapMs} ms after the handler saw the previous one, so the system is idle each time`,
      `(${fmt(count)} measured sends after ${warmup} warm-up sends). The handler start includes the receive`,
      "transaction's fsync (a receive claims the message in a write). HTTP parsing is not included.",
    ].join('\n'),
    figures: [
      {
        id: '5',
        name: 'Submit -> handler start, p50 (idle)',
        value: `p50 ${ms(ack.p50)}, p99 ${ms(ack.p99)}`,
        target: `p50 <= ${P50_TARGET_MS} ms`,
        met: ack.count > 0 && lost === 0 && ack.p50 <= P50_TARGET_MS,
        details: [
          line('send resolved -> handler', ack),
          line('send called -> handler', call),
          line('send call -> resolved (one fsync\'d commit)', send),
          `${fmt(ack.count)} samples, ${lost} not delivered within 2 s`,
        ],
      },
    ],
  };
}
