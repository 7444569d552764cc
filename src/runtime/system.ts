import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Logger } from 'pino';
import { eventBusName, type Config } from '../config.js';
import { JobService } from '../domain/jobs/job-service.js';
import { OrderService } from '../domain/orders/order-service.js';
import { TaskChangeSignal } from '../domain/tasks/task-change-signal.js';
import { taskChangeEvent, type TaskChange } from '../domain/tasks/task-events.js';
import { TaskService } from '../domain/tasks/task-service.js';
import { UserService } from '../domain/users/user-service.js';
import { createApp } from '../http/app.js';
import { systemClock, type Clock } from '../ports/clock.js';
import { isFailedEntry, type EventBus, type EventHandler } from '../ports/event-bus.js';
import type { Queue } from '../ports/queue.js';
import { createTaskEventProcessor } from '../workers/task-event-processor.js';
import { createConsumers, type Consumers } from './consumers.js';
export type { Consumer } from './consumers.js';
import type { Ports } from './ports.js';
import { VERSION } from './version.js';

/** The whole application wired to one set of ports: what both runtimes (local, Lambda) start from. */
export interface System {
  readonly config: Config;
  readonly logger: Logger;
  readonly ports: Ports;
  /** The HTTP API of the configured region (`AWS_REGION`). */
  readonly app: OpenAPIHono;
  /** The same API reporting another region in `/health` (local multi-region runs: one listener per region over one store). */
  appFor(region: string): OpenAPIHono;
  readonly consumers: Consumers;
  /** Queues the admin endpoints show, by name; the local runtime adds the event bus's queues once its rules are set. */
  readonly queues: Map<string, Queue>;
  /** The task processor (target of rule `task-processing-rule`); absent without a SQL store. */
  readonly taskProcessor?: EventHandler;
  /** Committed task changes of this process, for `/tasks/stream`. */
  readonly taskChanges: TaskChangeSignal;
  /** The bus task events are published on (`task-events-{environment}`). */
  readonly eventBusName: string;
}

/**
 * Wires services, HTTP app and record handlers to `ports`. Nothing here knows which
 * backend it runs on.
 */
export function createSystem(config: Config, ports: Ports, logger: Logger, clock: Clock = systemClock): System {
  const jobs = new JobService({ jobs: ports.jobsTable, queue: ports.jobsQueue, results: ports.results, clock });
  const orders = new OrderService({ orders: ports.ordersTable, queue: ports.ordersQueue, clock });
  const busName = eventBusName(config);
  const taskChanges = new TaskChangeSignal();
  const onChange = taskChangeListener(ports.eventBus, busName, taskChanges, logger);
  const sql = ports.sql;
  const users = sql === undefined ? undefined : new UserService({ sql, clock });
  const tasks = sql === undefined ? undefined : new TaskService({ sql, clock, onChange });
  const queues = new Map<string, Queue>([ports.jobsQueue, ports.ordersQueue, ports.callbacksQueue].map((q) => [q.name, q]));
  const startedAt = Date.now();
  const appFor = (region: string) =>
    createApp({
      jobs,
      orders,
      users,
      tasks,
      taskChanges,
      events: ports.eventBus === undefined ? undefined : { bus: ports.eventBus, defaultBusName: busName },
      queues,
      bodyLimitBytes: config.SPOOL_BODY_LIMIT_BYTES,
      logger,
      health: { version: VERSION, backend: ports.backend, region, startedAt, checks: ports.healthChecks },
    });
  return {
    config,
    logger,
    ports,
    app: appFor(config.AWS_REGION),
    appFor,
    consumers: createConsumers(config, ports, logger, clock),
    queues,
    ...(tasks === undefined ? {} : { taskProcessor: createTaskEventProcessor({ tasks, logger }) }),
    taskChanges,
    eventBusName: busName,
  };
}

/**
 * After each committed task change: wake this process's stream readers, and publish the
 * task event. A failed publish is logged, not thrown: the change is durable and its
 * history entry written, and answering an error would invite the client to repeat it.
 */
function taskChangeListener(bus: EventBus | undefined, busName: string, signal: TaskChangeSignal, logger: Logger) {
  return async (change: TaskChange): Promise<void> => {
    signal.emit(change);
    const entry = bus === undefined ? undefined : taskChangeEvent(change, busName);
    if (bus === undefined || entry === undefined) return;
    try {
      const result = await bus.putEvents([entry]);
      const [first] = result.entries;
      if (first !== undefined && isFailedEntry(first)) throw new Error(`${first.errorCode}: ${first.errorMessage}`);
    } catch (err) {
      logger.error({ err, taskId: change.task.id, activityId: change.activity.id }, 'task event not published');
    }
  };
}
