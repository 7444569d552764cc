import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { JobService } from '../domain/jobs/job-service.js';
import { OrderService } from '../domain/orders/order-service.js';
import { TaskService } from '../domain/tasks/task-service.js';
import { UserService } from '../domain/users/user-service.js';
import { createApp } from '../http/app.js';
import { systemClock, type Clock } from '../ports/clock.js';
import type { Queue } from '../ports/queue.js';
import { createConsumers, type Consumers } from './consumers.js';
export type { Consumer } from './consumers.js';
import type { Ports } from './ports.js';
import { VERSION } from './version.js';

/** The whole application wired to one set of ports: what both runtimes (local, Lambda) start from. */
export interface System {
  readonly config: Config;
  readonly logger: Logger;
  readonly ports: Ports;
  readonly app: OpenAPIHono;
  readonly consumers: Consumers;
}

/**
 * Wires services, HTTP app and record handlers to `ports`. Nothing here knows which
 * backend it runs on.
 */
export function createSystem(config: Config, ports: Ports, logger: Logger, clock: Clock = systemClock): System {
  const jobs = new JobService({ jobs: ports.jobsTable, queue: ports.jobsQueue, results: ports.results, clock });
  const orders = new OrderService({ orders: ports.ordersTable, queue: ports.ordersQueue, clock });
  const sql = ports.sql;
  const users = sql === undefined ? undefined : new UserService({ sql, clock });
  const tasks = sql === undefined ? undefined : new TaskService({ sql, clock });
  const queues = new Map<string, Queue>([ports.jobsQueue, ports.ordersQueue, ports.callbacksQueue].map((q) => [q.name, q]));
  const app = createApp({
    jobs,
    orders,
    users,
    tasks,
    queues,
    bodyLimitBytes: config.SPOOL_BODY_LIMIT_BYTES,
    logger,
    health: { version: VERSION, backend: ports.backend, region: config.AWS_REGION, startedAt: Date.now(), checks: ports.healthChecks },
  });
  return {
    config,
    logger,
    ports,
    app,
    consumers: createConsumers(config, ports, logger, clock),
  };
}
