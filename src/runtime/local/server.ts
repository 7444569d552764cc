import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import type { Config } from '../../config.js';
import type { Ports } from '../ports.js';
import { createLogger } from '../logger.js';
import { createSystem, type System } from '../system.js';
import { reconcileDeadLetters } from '../../workers/dead-letter-reconciler.js';
import { systemClock } from '../../ports/clock.js';
import { QueueEventSource } from './queue-event-source.js';
import type { OpenAPIHono } from '@hono/zod-openapi';
import { TASK_PROCESSING_PATTERN } from '../../domain/tasks/task-events.js';
import type { Consumer } from '../consumers.js';

/** The recipe's rule and target names. */
export const TASK_PROCESSING_RULE = 'task-processing-rule';
export const TASK_PROCESSOR = 'task-processor';
/**
 * Retries of a failed task-processor delivery before the event goes to the target's DLQ
 * (EventBridge's default is 185 over 24 hours; a task event that failed 8 times with
 * backoff is broken, and an operator should see it in the DLQ the same day).
 */
export const TASK_PROCESSOR_RETRY_ATTEMPTS = 8;

/** A started local Spool: HTTP server, event sources and housekeeping in one process. */
export interface LocalServer {
  readonly system: System;
  /** The first (or only) region's listener. */
  readonly url: string;
  /** One listener per region, on consecutive ports, all over the same stores. */
  readonly listeners: readonly { readonly region: string; readonly url: string }[];
  /** Stops accepting, lets in-flight work finish (bounded by SPOOL_SHUTDOWN_TIMEOUT_MS), closes the stores. */
  stop(): Promise<void>;
}

const HOUSEKEEPING_INTERVAL_MS = 60_000;
/** How long a stopping server waits for open connections (event streams never end by themselves). */
const STREAM_GRACE_MS = 2_000;

/**
 * Starts everything on `ports`. Used by `npm start` and by the end-to-end tests.
 *
 * @example
 * const server = await startLocalServer(loadConfig(), createEmbeddedPorts(config, logger));
 * console.log(server.url);
 * await server.stop();
 */
export interface LocalServerOptions {
  /**
   * Serve one listener per region (`npm start -- --regions us-east-1,us-east-2`), on `PORT`,
   * `PORT + 1`, ... (or each on a free port when `PORT` is 0). Default: `AWS_REGION` alone.
   */
  readonly regions?: readonly string[];
}

export async function startLocalServer(
  config: Config,
  makePorts: (logger: ReturnType<typeof createLogger>) => Ports | Promise<Ports>,
  options: LocalServerOptions = {},
): Promise<LocalServer> {
  const logger = createLogger(config);
  const ports = await makePorts(logger);
  // Local runs own their schema; on AWS migrations are a deploy step, not a cold-start one.
  await ports.sql?.migrate();
  const system = createSystem(config, ports, logger);
  const sourceOptions = {
    batchSize: config.SPOOL_WORKER_BATCH_SIZE,
    batchWindowMs: config.SPOOL_WORKER_BATCH_WINDOW_MS,
    concurrency: config.SPOOL_WORKER_CONCURRENCY,
    handlerTimeoutMs: config.SPOOL_HANDLER_TIMEOUT_MS,
  };
  const eventConsumers = await startTaskEvents(system);
  for (const consumer of eventConsumers) system.queues.set(consumer.queue.name, consumer.queue);
  const sources = [...Object.values(system.consumers), ...eventConsumers].map((consumer) => new QueueEventSource(consumer, sourceOptions, logger));
  for (const source of sources) source.start();

  const housekeeping = ports.housekeeping;
  const sweeper =
    housekeeping === undefined
      ? undefined
      : setInterval(() => housekeeping().catch((err: unknown) => logger.error({ err }, 'housekeeping failed')), HOUSEKEEPING_INTERVAL_MS).unref();
  // Messages dead-lettered while no handler could fail them (the process died during their
  // last delivery) get their alert and outcome here: once at start, then periodically.
  const reconcile = () =>
    reconcileDeadLetters(Object.values(system.consumers), { ledger: ports.jobsTable, alerts: ports.alerts, clock: systemClock, logger }).catch(
      (err: unknown) => logger.error({ err }, 'dead-letter reconciliation failed'),
    );
  await reconcile();
  const reconciler = setInterval(() => void reconcile(), config.SPOOL_RECONCILE_INTERVAL_MS).unref();

  const regions = options.regions ?? [config.AWS_REGION];
  const servers: ServerType[] = [];
  const listeners: { region: string; url: string }[] = [];
  try {
    for (const [index, region] of regions.entries()) {
      const server = await listen(region === config.AWS_REGION ? system.app : system.appFor(region), config.HOST, config.PORT === 0 ? 0 : config.PORT + index);
      servers.push(server);
      const { port } = server.address() as AddressInfo;
      listeners.push({ region, url: `http://${config.HOST.includes(':') ? `[${config.HOST}]` : config.HOST}:${port}` });
    }
  } catch (error) {
    for (const server of servers) server.close();
    throw error;
  }

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      clearInterval(sweeper);
      clearInterval(reconciler);
      await Promise.all(servers.map((server) => closeServer(server, Math.min(STREAM_GRACE_MS, config.SPOOL_SHUTDOWN_TIMEOUT_MS))));
      await Promise.all(sources.map((s) => s.stop(config.SPOOL_SHUTDOWN_TIMEOUT_MS)));
      await ports.close();
    })());
  return { system, url: listeners[0]!.url, listeners, stop };
}

/**
 * The recipe's event wiring on the embedded bus: rule `task-processing-rule` on
 * `task-events-{environment}` routes every task event to the task processor. PutRule and
 * PutTargets are upserts, so this is the same on every start. Returns the consumers that
 * deliver (none without a SQL store, or on a backend whose bus delivers by itself).
 */
async function startTaskEvents(system: System): Promise<Consumer[]> {
  const { eventBus, eventDelivery } = system.ports;
  if (eventBus === undefined || eventDelivery === undefined || system.taskProcessor === undefined) return [];
  const rule = { name: TASK_PROCESSING_RULE, busName: system.eventBusName };
  await eventBus.putRule({ ...rule, eventPattern: TASK_PROCESSING_PATTERN, description: 'Task events to the task processor' });
  await eventBus.putTargets(rule, [{ id: TASK_PROCESSOR, kind: 'handler', handler: TASK_PROCESSOR, maximumRetryAttempts: TASK_PROCESSOR_RETRY_ATTEMPTS }]);
  return eventDelivery.call(system.ports, new Map([[TASK_PROCESSOR, system.taskProcessor]]));
}

/**
 * Stops accepting and waits for open requests, but not for ever: a `/tasks/stream` client
 * keeps its connection open until it leaves, so whatever is still open after `graceMs` is
 * closed (an EventSource reconnects elsewhere with its Last-Event-ID).
 */
function closeServer(server: ServerType, graceMs: number): Promise<void> {
  return new Promise<void>((resolve) => {
    server.close(() => resolve());
    if (!('closeAllConnections' in server)) return;
    server.closeIdleConnections();
    setTimeout(() => server.closeAllConnections(), graceMs).unref();
  });
}

function listen(app: OpenAPIHono, hostname: string, port: number): Promise<ServerType> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: app.fetch, hostname, port }, () => resolve(server));
    server.once('error', reject);
  });
}
