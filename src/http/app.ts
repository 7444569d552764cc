import { OpenAPIHono } from '@hono/zod-openapi';
import { Scalar } from '@scalar/hono-api-reference';
import type { Logger } from 'pino';
import { NotFoundError } from '../errors.js';
import type { JobService } from '../domain/jobs/job-service.js';
import type { OrderService } from '../domain/orders/order-service.js';
import type { TaskChangeSignal } from '../domain/tasks/task-change-signal.js';
import type { TaskService } from '../domain/tasks/task-service.js';
import type { UserService } from '../domain/users/user-service.js';
import { MAX_PUT_EVENTS_BYTES, type EventBus } from '../ports/event-bus.js';
import type { Queue } from '../ports/queue.js';
import { errorResponse } from './error-handler.js';
import { limitBody, requireJson } from './request-guards.js';
import { registerAdminRoutes } from './routes/admin.js';
import { registerEventRoutes } from './routes/events.js';
import { registerHealthRoute, type HealthInfo } from './routes/health.js';
import { registerJobRoutes } from './routes/jobs.js';
import { registerOrderRoutes } from './routes/orders.js';
import { registerTaskStreamRoute } from './routes/task-stream.js';
import { registerTaskRoutes } from './routes/tasks.js';
import { registerUserRoutes } from './routes/users.js';
import { validationHook } from './validation-hook.js';

/** Body limit of `POST /events`: twice PutEvents' content limit plus room for the envelope. */
export const EVENTS_BODY_LIMIT_BYTES = 2 * MAX_PUT_EVENTS_BYTES + 64 * 1024;

export interface AppDeps {
  readonly jobs: JobService;
  readonly orders: OrderService;
  /** Users and tasks live on the SQL store; absent without one, and their routes answer 503. */
  readonly users?: UserService;
  readonly tasks?: TaskService;
  /** Committed task changes of this process (wakes `/tasks/stream` readers). */
  readonly taskChanges?: TaskChangeSignal;
  /** The event bus behind `POST /events`; without one those routes are not served. */
  readonly events?: { readonly bus: EventBus; readonly defaultBusName: string };
  /** Queues the admin endpoints may inspect and redrive, by name. */
  readonly queues: ReadonlyMap<string, Queue>;
  readonly health: HealthInfo;
  readonly bodyLimitBytes: number;
  readonly logger: Logger;
}

/**
 * The HTTP API, the same for `npm start` and for Lambda (`hono/aws-lambda`).
 * Every route validates with zod; the OpenAPI document is generated from those schemas.
 *
 * @example
 * const app = createApp(deps);
 * serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 3000 });
 */
export function createApp(deps: AppDeps): OpenAPIHono {
  const app = new OpenAPIHono({ defaultHook: validationHook });
  app.onError((error, c) => errorResponse(error, c, deps.logger));
  app.notFound((c) => errorResponse(new NotFoundError(`no route for ${c.req.method} ${c.req.path}`), c, deps.logger));
  // PutEvents counts 256 KB of entry content; its JSON body (Detail is JSON inside a JSON string,
  // so quotes are escaped) is larger. /events gets room for that, so a request over the
  // content limit is refused in EventBridge's words (400) rather than by the body limit (413).
  const bodyLimit = limitBody(deps.bodyLimitBytes);
  const eventsBodyLimit = limitBody(Math.max(deps.bodyLimitBytes, EVENTS_BODY_LIMIT_BYTES));
  app.use('*', (c, next) => (c.req.path === '/events' ? eventsBodyLimit(c, next) : bodyLimit(c, next)), requireJson);

  registerJobRoutes(app, deps.jobs);
  registerOrderRoutes(app, deps.orders);
  registerUserRoutes(app, deps.users);
  // Before the task routes: /tasks/{id} would take `stream` for an id.
  registerTaskStreamRoute(app, { tasks: deps.tasks, changes: deps.taskChanges, logger: deps.logger });
  registerTaskRoutes(app, deps.tasks);
  if (deps.events !== undefined) registerEventRoutes(app, deps.events.bus, { defaultBusName: deps.events.defaultBusName });
  registerAdminRoutes(app, deps.queues);
  registerHealthRoute(app, deps.health);

  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: {
      title: 'Spool API',
      version: deps.health.version,
      description:
        'Asynchronous jobs and orders: every write answers at once (202) and is processed from a durable queue. ' +
        'Users and tasks on the SQL store: writes are transactional (201/200/204), with ETag and If-Match on every record.',
    },
  });
  app.get('/docs', Scalar({ url: '/openapi.json', pageTitle: 'Spool API reference' }));
  return app;
}
