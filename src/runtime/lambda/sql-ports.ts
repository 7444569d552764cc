import { createEventBridgeClient, type AwsClientOptions } from '../../adapters/aws/clients.js';
import { EventBridgeBus } from '../../adapters/aws/eventbridge-bus.js';
import { PostgresSql } from '../../adapters/sql/postgres-sql.js';
import { regionFromDsqlEndpoint } from '../../adapters/sql/dsql-auth.js';
import { eventBusName, type Config } from '../../config.js';
import { ConfigError, ServiceUnavailableError } from '../../errors.js';
import type { EventBus } from '../../ports/event-bus.js';
import type { Sql } from '../../ports/sql.js';
import { sqlHealthCheck, type Ports } from '../ports.js';

/** What {@link createSqlPorts} may be given instead of building it from the configuration (tests). */
export interface SqlPortsOverrides {
  readonly sql?: Sql;
  readonly eventBus?: EventBus;
}

/**
 * The ports of the task API function of the DSQL stacks: the SQL store (Aurora DSQL with IAM
 * tokens; PostgreSQL when `DATABASE_URL` is set instead) and the EventBridge task events bus.
 *
 * Not `createAwsPorts`: that one needs the queues, tables, bucket and topic of the SQS stack
 * (it reads their names eagerly), which the DSQL stacks do not have. `createSystem` only reads
 * the `name` of the queues while it wires the jobs and orders services; the stand-ins below
 * answer 503 (`not_deployed`) if a jobs, orders or admin route is ever reached (the HTTP API of
 * the DSQL stacks does not route them).
 *
 * No SQLite here: its native addon is not in the Lambda bundle, so nothing may import it.
 */
export function createSqlPorts(config: Config, overrides: SqlPortsOverrides = {}): Ports {
  const sql = overrides.sql ?? createTaskSql(config);
  const busName = eventBusName(config);
  const options: AwsClientOptions = { region: config.AWS_REGION, ...(config.SPOOL_AWS_ENDPOINT ? { endpoint: config.SPOOL_AWS_ENDPOINT } : {}) };
  const eventBus =
    overrides.eventBus ??
    new EventBridgeBus({
      client: createEventBridgeClient(options),
      targetArn: () => {
        throw new ConfigError([`rule targets of event bus ${busName} are managed by the CDK app on AWS`]);
      },
    });
  return {
    backend: 'aws',
    jobsQueue: notDeployed('jobs'),
    ordersQueue: notDeployed('orders'),
    callbacksQueue: notDeployed('callbacks'),
    jobsTable: notDeployed('jobs'),
    ordersTable: notDeployed('orders'),
    results: notDeployed('results'),
    alerts: notDeployed('alerts'),
    sql,
    eventBus,
    callbackSecret: () => Promise.reject(unavailable('callbacks')),
    healthChecks: { sql: sqlHealthCheck(sql) },
    async close() {
      await sql.close();
    },
  };
}

/**
 * Aurora DSQL from `SPOOL_DSQL_ENDPOINT` (role `SPOOL_DSQL_USER`: an application role needs only
 * `dsql:DbConnect`), or PostgreSQL from `DATABASE_URL`.
 */
export function createTaskSql(config: Config): Sql {
  if (config.SPOOL_DSQL_ENDPOINT !== undefined) {
    return PostgresSql.dsql({
      endpoint: config.SPOOL_DSQL_ENDPOINT,
      user: config.SPOOL_DSQL_USER,
      region: config.SPOOL_DSQL_REGION ?? regionFromDsqlEndpoint(config.SPOOL_DSQL_ENDPOINT) ?? config.AWS_REGION,
    });
  }
  if (config.DATABASE_URL !== undefined) return PostgresSql.connect(config.DATABASE_URL);
  throw new ConfigError(['SPOOL_DSQL_ENDPOINT (or DATABASE_URL): the task API needs its SQL store']);
}

function unavailable(what: string): ServiceUnavailableError {
  return new ServiceUnavailableError('not_deployed', `${what} are not part of this deployment (the users and tasks stack on Aurora DSQL)`);
}

/**
 * A port of the SQS stack that this deployment does not have: it has a `name` (createSystem reads
 * it) and every method rejects with 503 `not_deployed`.
 */
function notDeployed<T extends { readonly name: string }>(name: string): T {
  return new Proxy({ name } as T, {
    get(target, property, receiver) {
      if (property === 'name' || typeof property === 'symbol' || property === 'then') return Reflect.get(target, property, receiver);
      return () => Promise.reject(unavailable(name));
    },
  });
}
