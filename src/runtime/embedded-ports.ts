import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import { FileObjectStore } from '../adapters/embedded/file-object-store.js';
import { LocalEventBus } from '../adapters/embedded/local-event-bus.js';
import { LocalTopic, logSubscriber, outboxFileSubscriber, webhookSubscriber, type Subscriber } from '../adapters/embedded/local-topic.js';
import { SqliteEngine } from '../adapters/embedded/sqlite-engine.js';
import { SqliteQueue } from '../adapters/embedded/sqlite-queue.js';
import { SqliteTable } from '../adapters/embedded/sqlite-table.js';
import { createSql } from '../adapters/sql/create-sql.js';
import type { Config } from '../config.js';
import { ConfigError } from '../errors.js';
import { createEventBusConsumers } from './event-bus-consumers.js';
import { sqlHealthCheck, type Ports } from './ports.js';

/** Callback deliveries retry for about an hour and a half before they are dead-lettered. */
const CALLBACKS_VISIBILITY_SECONDS = 60;

/**
 * The embedded backend: one SQLite database (queues and tables, group-committed, fsync'd)
 * and a directory of result files, all under `SPOOL_DATA_DIR`.
 */
export function createEmbeddedPorts(config: Config, logger: Logger): Ports {
  const dataDir = resolve(config.SPOOL_DATA_DIR);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const engine = SqliteEngine.open(join(dataDir, 'spool.db'));
  const queue = (name: string, visibilityTimeoutSeconds: number, maxReceiveCount: number) =>
    new SqliteQueue(engine, { name, visibilityTimeoutSeconds, maxReceiveCount, retentionSeconds: config.SPOOL_RETENTION_SECONDS });
  const callbackSecret = config.SPOOL_CALLBACK_SECRET ?? localSecret(join(dataDir, 'callback-secret'));
  const jobsTable = new SqliteTable(engine, 'jobs');
  const ordersTable = new SqliteTable(engine, 'orders');
  const queues = [
    queue('jobs', config.SPOOL_JOBS_VISIBILITY_SECONDS, config.SPOOL_JOBS_MAX_RECEIVE_COUNT),
    queue('orders', config.SPOOL_ORDERS_VISIBILITY_SECONDS, config.SPOOL_ORDERS_MAX_RECEIVE_COUNT),
    queue('callbacks', CALLBACKS_VISIBILITY_SECONDS, config.SPOOL_CALLBACKS_MAX_RECEIVE_COUNT),
  ] as const;
  const results = new FileObjectStore(join(dataDir, 'objects'), 'results');
  const sql = createSql({ ...config, SPOOL_DATA_DIR: dataDir });
  const alerts = new LocalTopic('alerts', alertSubscribers(config, dataDir, callbackSecret, logger), logger);
  // Events ride the same engine as the queues: an accepted PutEvents entry is fsync'd before the answer.
  const eventBus = new LocalEventBus(engine, { retentionSeconds: config.SPOOL_RETENTION_SECONDS, region: config.AWS_REGION });
  return {
    backend: 'embedded',
    jobsQueue: queues[0],
    ordersQueue: queues[1],
    callbacksQueue: queues[2],
    jobsTable,
    ordersTable,
    results,
    alerts,
    sql,
    eventBus,
    eventDelivery: (handlers) =>
      createEventBusConsumers(eventBus, {
        handlers,
        queues: new Map(queues.map((q) => [q.name, q])),
        alerts,
        logger,
        retryBaseSeconds: config.SPOOL_RETRY_BASE_SECONDS,
        // EventBridge backs off exponentially up to minutes between retries; so do these deliveries.
        maxRetryDelaySeconds: 300,
      }),
    callbackSecret: async () => callbackSecret,
    healthChecks: {
      sqlite: async () => engine.db.prepare('SELECT 1').get(),
      objects: async () => results.head('health/probe'),
      sql: sqlHealthCheck(sql),
    },
    async housekeeping() {
      await Promise.all([jobsTable.sweepExpired(), ordersTable.sweepExpired(), ...queues.map((q) => q.sweepExpired()), eventBus.sweepExpired(), results.sweepTempFiles()]);
    },
    async close() {
      engine.close();
      await sql.close();
    },
  };
}

function alertSubscribers(config: Config, dataDir: string, secret: string, logger: Logger): Subscriber[] {
  const names = config.SPOOL_ALERT_SUBSCRIBERS.split(',').map((s) => s.trim()).filter((s) => s !== '');
  return names.map((name) => {
    switch (name) {
      case 'log':
        return logSubscriber(logger);
      case 'outbox':
        return outboxFileSubscriber(join(dataDir, 'alerts.jsonl'));
      case 'webhook':
        if (config.SPOOL_ALERT_WEBHOOK_URL === undefined) throw new ConfigError(['SPOOL_ALERT_WEBHOOK_URL is required for the webhook subscriber']);
        return webhookSubscriber(config.SPOOL_ALERT_WEBHOOK_URL, secret, logger);
      default:
        throw new ConfigError([`SPOOL_ALERT_SUBSCRIBERS: unknown subscriber ${JSON.stringify(name)} (log, outbox, webhook)`]);
    }
  });
}

/** A random key kept in the data dir (mode 0600), so signatures stay valid across restarts. */
function localSecret(path: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    const secret = randomBytes(32).toString('hex');
    writeFileSync(path, secret, { mode: 0o600, flag: 'wx' });
    return secret;
  }
}
