import type { EventBus, EventHandler } from '../ports/event-bus.js';
import type { ObjectStore } from '../ports/object-store.js';
import type { Queue } from '../ports/queue.js';
import type { Table } from '../ports/table.js';
import type { Sql } from '../ports/sql.js';
import type { Topic } from '../ports/topic.js';
import type { Consumer } from './consumers.js';

/** Every port instance the application uses, from one backend. */
export interface Ports {
  readonly backend: 'embedded' | 'aws';
  readonly jobsQueue: Queue;
  readonly ordersQueue: Queue;
  readonly callbacksQueue: Queue;
  readonly jobsTable: Table;
  readonly ordersTable: Table;
  readonly results: ObjectStore;
  readonly alerts: Topic;
  /**
   * The relational store of users and tasks (SQLite, PostgreSQL or Aurora DSQL, by
   * configuration). Absent where nothing needs it (the worker Lambdas) or none is configured.
   */
  readonly sql?: Sql;
  /** The event bus (embedded, or EventBridge). Absent where nothing publishes (the queue workers). */
  readonly eventBus?: EventBus;
  /**
   * Embedded only: the consumers that make the bus deliver (its routers and rule targets),
   * for the local event sources to run. `handlers` are the functions `handler` targets name.
   * On AWS, EventBridge delivers by itself.
   */
  eventDelivery?(handlers: ReadonlyMap<string, EventHandler>): Promise<Consumer[]>;
  /** HMAC key for callbacks; loaded on first use (on AWS it lives in Secrets Manager). */
  callbackSecret(): Promise<string>;
  /** Cheap probes for `/health`, by backend name. */
  readonly healthChecks: Readonly<Record<string, () => Promise<unknown>>>;
  /** Periodic housekeeping the backend needs (TTL and retention sweeps); none on AWS. */
  housekeeping?(): Promise<void>;
  close(): Promise<void>;
}

/** The `/health` probe of a SQL store: a one-row read of the users table (so it also fails while the schema is missing). */
export function sqlHealthCheck(sql: Sql): () => Promise<unknown> {
  return () => sql.read((db) => db.selectFrom('users').select('id').limit(1).execute());
}
