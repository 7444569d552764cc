import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { systemClock, type Clock } from '../ports/clock.js';
import type { DeadLetter, Queue } from '../ports/queue.js';
import { createCallbackDelivery } from '../workers/callback-delivery.js';
import { createJobProcessor, failDeadLetteredJob } from '../workers/job-processor.js';
import { createOrderProcessor } from '../workers/order-processor.js';
import type { BatchPolicy, RecordHandler } from '../workers/queue-record.js';
import type { Ports } from './ports.js';

/** A queue with the record handler that consumes it. */
export interface Consumer {
  readonly queue: Queue;
  readonly handler: RecordHandler;
  readonly policy: BatchPolicy;
  /** Settles the domain record of a message dead-lettered without a recorded final failure. */
  readonly onDeadLettered?: (letter: DeadLetter) => Promise<void>;
}

export interface Consumers {
  readonly jobs: Consumer;
  readonly orders: Consumer;
  readonly callbacks: Consumer;
}

/** The record handlers and their queues: all a worker Lambda needs (no HTTP code in its bundle). */
export function createConsumers(config: Config, ports: Ports, logger: Logger, clock: Clock = systemClock): Consumers {
  const policy = (queue: Queue, visibilitySeconds: number): BatchPolicy => ({
    queue,
    alerts: ports.alerts,
    logger,
    retryBaseSeconds: config.SPOOL_RETRY_BASE_SECONDS,
    maxRetryDelaySeconds: visibilitySeconds,
    ledger: { table: ports.jobsTable, clock },
  });
  return {
    jobs: {
      queue: ports.jobsQueue,
      handler: createJobProcessor({ jobs: ports.jobsTable, results: ports.results, callbacks: ports.callbacksQueue, clock }),
      policy: policy(ports.jobsQueue, config.SPOOL_JOBS_VISIBILITY_SECONDS),
      onDeadLettered: failDeadLetteredJob({ jobs: ports.jobsTable, callbacks: ports.callbacksQueue, clock }),
    },
    orders: {
      queue: ports.ordersQueue,
      handler: createOrderProcessor({ orders: ports.ordersTable, clock }),
      policy: policy(ports.ordersQueue, config.SPOOL_ORDERS_VISIBILITY_SECONDS),
    },
    callbacks: {
      queue: ports.callbacksQueue,
      handler: createCallbackDelivery({ secret: () => ports.callbackSecret() }),
      policy: policy(ports.callbacksQueue, 600),
    },
  };
}
