import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { ReceivedMessage } from '../../ports/queue.js';
import { processBatch, type BatchResponse } from '../../workers/queue-record.js';
import type { Consumer } from '../consumers.js';

/** The knobs of a Lambda SQS event source mapping. */
export interface EventSourceOptions {
  /** Records per batch, 1..10. */
  readonly batchSize: number;
  /** How long to wait to fill a batch (Lambda's MaximumBatchingWindowInSeconds), in ms. */
  readonly batchWindowMs: number;
  /** Batches in flight at once (Lambda's maximum concurrency). */
  readonly concurrency: number;
  /** A batch still running after this is treated as failed, as a Lambda timeout is. */
  readonly handlerTimeoutMs: number;
}

const TIMED_OUT = Symbol('timed out');

/**
 * Polls a queue and feeds its record handler the way Lambda's SQS event source does:
 * batches, batching window, concurrency limit, handler timeout, and partial batch
 * failures (successful records are deleted, failed ones stay on the queue; a timed-out
 * or thrown batch leaves every record on the queue).
 */
export class QueueEventSource {
  private readonly stopping = new AbortController();
  private readonly abortHandlers = new AbortController();
  private loops: Promise<void>[] = [];

  constructor(
    private readonly consumer: Consumer,
    private readonly options: EventSourceOptions,
    private readonly logger: Logger,
  ) {}

  start(): void {
    this.loops = Array.from({ length: this.options.concurrency }, () => this.loop());
  }

  /** Stops receiving, lets in-flight batches finish for up to `graceMs`, then aborts them. */
  async stop(graceMs: number): Promise<void> {
    this.stopping.abort();
    const all = Promise.all(this.loops);
    const finished = await Promise.race([all.then(() => true), delay(graceMs, false, { ref: false })]);
    if (!finished) {
      this.logger.warn({ queue: this.consumer.queue.name }, 'in-flight batches did not finish in time: aborting them');
      this.abortHandlers.abort();
      await Promise.race([all, delay(1000, undefined, { ref: false })]);
    }
  }

  private async loop(): Promise<void> {
    const { queue } = this.consumer;
    while (!this.stopping.signal.aborted) {
      try {
        const records = await this.nextBatch();
        if (records.length > 0) await this.runBatch(records);
      } catch (error) {
        if (this.stopping.signal.aborted) break;
        this.logger.error({ err: error, queue: queue.name }, 'event source error; backing off');
        await delay(1000, undefined, { ref: false });
      }
    }
  }

  private async nextBatch(): Promise<ReceivedMessage[]> {
    const { queue } = this.consumer;
    const { batchSize, batchWindowMs } = this.options;
    const records = await queue.receive({ maxMessages: batchSize, waitTimeSeconds: 20, signal: this.stopping.signal });
    const until = Date.now() + batchWindowMs;
    while (records.length > 0 && records.length < batchSize && Date.now() < until && !this.stopping.signal.aborted) {
      const more = await queue.receive({ maxMessages: batchSize - records.length });
      records.push(...more);
      if (more.length === 0) await delay(Math.min(10, until - Date.now()), undefined, { ref: false });
    }
    return records;
  }

  private async runBatch(records: ReceivedMessage[]): Promise<void> {
    const { queue, handler, policy } = this.consumer;
    const timeout = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<typeof TIMED_OUT>((resolve) => {
      timer = setTimeout(() => {
        timeout.abort();
        resolve(TIMED_OUT);
      }, this.options.handlerTimeoutMs);
    });
    const signal = AbortSignal.any([timeout.signal, this.abortHandlers.signal]);
    let outcome: BatchResponse | typeof TIMED_OUT;
    try {
      outcome = await Promise.race([processBatch(records, handler, { ...policy, signal }), timedOut]);
    } finally {
      clearTimeout(timer);
    }
    if (outcome === TIMED_OUT) {
      this.logger.error({ queue: queue.name, records: records.length, timeoutMs: this.options.handlerTimeoutMs }, 'batch timed out: every record returns to the queue');
      return;
    }
    const failed = new Set(outcome.batchItemFailures.map((f) => f.itemIdentifier));
    const done = records.filter((r) => !failed.has(r.messageId)).map((r) => r.receiptHandle);
    if (done.length > 0) await queue.delete(done);
  }
}
