import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import type { Config } from '../../config.js';
import type { Ports } from '../ports.js';
import { createLogger } from '../logger.js';
import { createSystem, type System } from '../system.js';
import { reconcileDeadLetters } from '../../workers/dead-letter-reconciler.js';
import { systemClock } from '../../ports/clock.js';
import { QueueEventSource } from './queue-event-source.js';

/** A started local Spool: HTTP server, event sources and housekeeping in one process. */
export interface LocalServer {
  readonly system: System;
  readonly url: string;
  /** Stops accepting, lets in-flight work finish (bounded by SPOOL_SHUTDOWN_TIMEOUT_MS), closes the stores. */
  stop(): Promise<void>;
}

const HOUSEKEEPING_INTERVAL_MS = 60_000;

/**
 * Starts everything on `ports`. Used by `npm start` and by the end-to-end tests.
 *
 * @example
 * const server = await startLocalServer(loadConfig(), createEmbeddedPorts(config, logger));
 * console.log(server.url);
 * await server.stop();
 */
export async function startLocalServer(config: Config, makePorts: (logger: ReturnType<typeof createLogger>) => Ports): Promise<LocalServer> {
  const logger = createLogger(config);
  const ports = makePorts(logger);
  // Local runs own their schema; on AWS migrations are a deploy step, not a cold-start one.
  await ports.sql?.migrate();
  const system = createSystem(config, ports, logger);
  const options = {
    batchSize: config.SPOOL_WORKER_BATCH_SIZE,
    batchWindowMs: config.SPOOL_WORKER_BATCH_WINDOW_MS,
    concurrency: config.SPOOL_WORKER_CONCURRENCY,
    handlerTimeoutMs: config.SPOOL_HANDLER_TIMEOUT_MS,
  };
  const sources = Object.values(system.consumers).map((consumer) => new QueueEventSource(consumer, options, logger));
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

  const server = await listen(system, config);
  const { port } = server.address() as AddressInfo;
  const url = `http://${config.HOST.includes(':') ? `[${config.HOST}]` : config.HOST}:${port}`;

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      clearInterval(sweeper);
      clearInterval(reconciler);
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await Promise.all(sources.map((s) => s.stop(config.SPOOL_SHUTDOWN_TIMEOUT_MS)));
      await ports.close();
    })());
  return { system, url, stop };
}

function listen(system: System, config: Config): Promise<ServerType> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: system.app.fetch, hostname: config.HOST, port: config.PORT }, () => resolve(server));
    server.once('error', reject);
  });
}
