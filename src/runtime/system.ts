import type { OpenAPIHono } from '@hono/zod-openapi';
import { pino, type Logger } from 'pino';
import type { Config } from '../config.js';
import { JobService } from '../domain/jobs/job-service.js';
import { OrderService } from '../domain/orders/order-service.js';
import { createApp } from '../http/app.js';
import { systemClock, type Clock } from '../ports/clock.js';
import type { Queue } from '../ports/queue.js';
import { createCallbackDelivery } from '../workers/callback-delivery.js';
import { createJobProcessor } from '../workers/job-processor.js';
import { createOrderProcessor } from '../workers/order-processor.js';
import type { BatchPolicy, RecordHandler } from '../workers/queue-record.js';
import type { Ports } from './ports.js';
import { VERSION } from './version.js';

/** A queue with the record handler that consumes it. */
export interface Consumer {
  readonly queue: Queue;
  readonly handler: RecordHandler;
  readonly policy: BatchPolicy;
}

/** The whole application wired to one set of ports: what both runtimes (local, Lambda) start from. */
export interface System {
  readonly config: Config;
  readonly logger: Logger;
  readonly ports: Ports;
  readonly app: OpenAPIHono;
  readonly consumers: { readonly jobs: Consumer; readonly orders: Consumer; readonly callbacks: Consumer };
}

/** Creates the application's logger: JSON lines on stdout. */
export function createLogger(config: Config): Logger {
  return pino({ level: config.LOG_LEVEL, base: { service: 'spool', env: config.SPOOL_ENVIRONMENT } });
}

/**
 * Wires services, HTTP app and record handlers to `ports`. Nothing here knows which
 * backend it runs on.
 */
export function createSystem(config: Config, ports: Ports, logger: Logger, clock: Clock = systemClock): System {
  const jobs = new JobService({ jobs: ports.jobsTable, queue: ports.jobsQueue, results: ports.results, clock });
  const orders = new OrderService({ orders: ports.ordersTable, queue: ports.ordersQueue, clock });
  const queues = new Map<string, Queue>([ports.jobsQueue, ports.ordersQueue, ports.callbacksQueue].map((q) => [q.name, q]));
  const app = createApp({
    jobs,
    orders,
    queues,
    bodyLimitBytes: config.SPOOL_BODY_LIMIT_BYTES,
    logger,
    health: { version: VERSION, backend: ports.backend, region: config.AWS_REGION, startedAt: Date.now(), checks: ports.healthChecks },
  });
  const policy = (queue: Queue, visibilitySeconds: number): BatchPolicy => ({
    queue,
    alerts: ports.alerts,
    logger,
    retryBaseSeconds: config.SPOOL_RETRY_BASE_SECONDS,
    maxRetryDelaySeconds: visibilitySeconds,
  });
  return {
    config,
    logger,
    ports,
    app,
    consumers: {
      jobs: {
        queue: ports.jobsQueue,
        handler: createJobProcessor({ jobs: ports.jobsTable, results: ports.results, callbacks: ports.callbacksQueue, clock }),
        policy: policy(ports.jobsQueue, config.SPOOL_JOBS_VISIBILITY_SECONDS),
      },
      orders: {
        queue: ports.ordersQueue,
        handler: createOrderProcessor({ orders: ports.ordersTable, clock }),
        policy: policy(ports.ordersQueue, config.SPOOL_ORDERS_VISIBILITY_SECONDS),
      },
      callbacks: {
        queue: ports.callbacksQueue,
        handler: createCallbackDelivery({ secret: ports.callbackSecret }),
        policy: policy(ports.callbacksQueue, 600),
      },
    },
  };
}
