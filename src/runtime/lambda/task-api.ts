/**
 * The one Lambda entry point of the users and tasks stacks on Aurora DSQL (infra/tasks-region-stack.ts).
 *
 * One handler, three kinds of event, chosen by shape:
 * - an API Gateway proxy event (HTTP API payload 2.0, REST payload 1.0, or the bare
 *   `{"httpMethod": "GET", "path": "/tasks"}` of the recipe's `aws lambda invoke` test) goes to
 *   the Hono app, the same as `npm start` serves;
 * - an EventBridge event (`detail-type`, `source`, `detail`), delivered by rule
 *   `task-processing-rule`, goes to the task processor. A failure throws: EventBridge invokes
 *   Lambda asynchronously, so Lambda retries twice and then sends the event to the function's
 *   dead-letter queue (the rule target's own DLQ receives what EventBridge could not deliver);
 * - `{"action": "migrate"}` applies the SQL migrations, only on the migrate function
 *   (`SPOOL_TASK_API_MODE=migrate`), which connects as the DSQL `admin` role. After migrating
 *   it creates the application's database role `SPOOL_DSQL_APP_ROLE` and maps it to the API
 *   function's IAM role `SPOOL_DSQL_APP_IAM_ROLE_ARN` (`AWS IAM GRANT`), so that the API
 *   function connects with `dsql:DbConnect` alone. Migrations are a deploy step, never run at
 *   cold start: `aws lambda invoke --function-name task-migrate-<env> --payload '{"action":"migrate"}'`.
 *
 * Anything else throws (a ValidationError naming what was expected).
 */
import type { Context } from 'aws-lambda';
import { handle } from 'hono/aws-lambda';
import { sql as rawSql } from 'kysely';
import type { Logger } from 'pino';
import * as z from 'zod';
import { loadConfig } from '../../config.js';
import { ValidationError } from '../../errors.js';
import type { EventEnvelope } from '../../ports/event-bus.js';
import type { Sql } from '../../ports/sql.js';
import { createLogger } from '../logger.js';
import { createSystem, type System } from '../system.js';
import { createSqlPorts, createTaskSql } from './sql-ports.js';

/** What a Lambda invocation may report about itself; absent fields default (tests, direct calls). */
export type InvocationContext = Partial<Pick<Context, 'getRemainingTimeInMillis' | 'awsRequestId'>>;
export type TaskApiHandler = (event: unknown, context?: InvocationContext) => Promise<unknown>;

/** The database role of the application and the IAM role it is mapped to (migrate function only). */
export interface AppRoleGrant {
  /** A PostgreSQL role name, e.g. `spool_app`. */
  readonly role: string;
  /** The API function's execution role, e.g. `arn:aws:iam::123456789012:role/...`. */
  readonly iamRoleArn: string;
}

export interface MigrateOutcome {
  readonly applied: readonly string[];
  /** The application role's grants, when the store is DSQL and a grant was configured. */
  readonly appRole?: { readonly role: string; readonly created: boolean; readonly iamRoleArn: string };
}

export interface TaskApiDeps {
  readonly logger: Logger;
  /** Serves HTTP and EventBridge events; absent on the migrate function. */
  readonly system?: System;
  /** Runs `{"action": "migrate"}`; absent on the API function. */
  readonly migrate?: () => Promise<MigrateOutcome>;
}

export type TaskApiEventKind = 'http' | 'eventbridge' | 'migrate' | 'unknown';

// Leave this much of the Lambda's time to fail cleanly before the runtime kills the invocation.
const SAFETY_MARGIN_MS = 1500;

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Which kind of event this is, by shape (see the file comment). */
export function taskApiEventKind(event: unknown): TaskApiEventKind {
  if (!isRecord(event)) return 'unknown';
  if (typeof event['detail-type'] === 'string' && typeof event['source'] === 'string' && 'detail' in event) return 'eventbridge';
  if (isHttpApiEvent(event) || (typeof event['httpMethod'] === 'string' && typeof event['path'] === 'string')) return 'http';
  if (event['action'] === 'migrate') return 'migrate';
  return 'unknown';
}

/**
 * The handler over a system (API function) or a migration (migrate function).
 *
 * @example
 * export const handler = createTaskApiHandler({ logger, system });
 */
export function createTaskApiHandler(deps: TaskApiDeps): TaskApiHandler {
  const { system, logger } = deps;
  const api = system === undefined ? undefined : (handle(system.app) as (event: unknown, context: unknown) => Promise<unknown>);
  return async (event, context = {}) => {
    const kind = taskApiEventKind(event);
    switch (kind) {
      case 'http': {
        if (api === undefined) throw new ValidationError('this function only runs migrations: send {"action": "migrate"}');
        const request = normalizeProxyEvent(event as Record<string, unknown>);
        if (request.method === 'GET' && request.path === '/tasks/stream') return streamNotAvailable();
        return api(request.event, context);
      }
      case 'eventbridge': {
        const processor = system?.taskProcessor;
        if (processor === undefined) throw new ValidationError('this function does not process task events');
        const envelope = parseEnvelope(event);
        const remaining = context.getRemainingTimeInMillis?.() ?? 60_000;
        try {
          await processor(envelope, { number: 1, final: false, signal: AbortSignal.timeout(Math.max(100, remaining - SAFETY_MARGIN_MS)) });
        } catch (error) {
          // Thrown on: Lambda retries the event, then sends it to the function's dead-letter queue.
          logger.error({ err: error, eventId: envelope.id, detailType: envelope['detail-type'] }, 'task event failed');
          throw error;
        }
        return { status: 'processed', eventId: envelope.id };
      }
      case 'migrate': {
        if (deps.migrate === undefined) throw new ValidationError('this function does not run migrations: invoke the migrate function (stack output MigrateFunctionName)');
        const outcome = await deps.migrate();
        logger.info(outcome, 'migrations applied');
        return outcome;
      }
      case 'unknown':
        throw new ValidationError('unrecognized event: expected an API Gateway proxy event, an EventBridge event, or {"action": "migrate"}');
    }
  };
}

function isHttpApiEvent(event: Record<string, unknown>): boolean {
  return event['version'] === '2.0' && typeof event['rawPath'] === 'string' && isRecord(event['requestContext']) && isRecord(event['requestContext']['http']);
}

/**
 * A proxy event hono/aws-lambda can read, with its method and path. Payload 2.0 events pass
 * unchanged. A REST (1.0) event gets what a direct `aws lambda invoke` may leave out: a `host`
 * header (hono builds the request URL from it), a JSON content type when there is a body (the
 * app accepts JSON only), a body given as an object serialized, `isBase64Encoded: false`.
 */
function normalizeProxyEvent(event: Record<string, unknown>): { event: Record<string, unknown>; method: string; path: string } {
  if (isHttpApiEvent(event)) {
    const http = (event['requestContext'] as { http: { method: string } }).http;
    return { event, method: http.method.toUpperCase(), path: event['rawPath'] as string };
  }
  const headers: Record<string, unknown> = isRecord(event['headers']) ? { ...event['headers'] } : {};
  const multi = isRecord(event['multiValueHeaders']) ? event['multiValueHeaders'] : {};
  const has = (name: string) => [...Object.keys(headers), ...Object.keys(multi)].some((key) => key.toLowerCase() === name);
  const rawBody = event['body'];
  const body = rawBody === undefined || rawBody === null ? null : typeof rawBody === 'string' ? rawBody : JSON.stringify(rawBody);
  const context = isRecord(event['requestContext']) ? event['requestContext'] : {};
  if (!has('host') && typeof context['domainName'] !== 'string') headers['host'] = 'lambda.invoke';
  if (body !== null && !has('content-type')) headers['content-type'] = 'application/json';
  const method = (event['httpMethod'] as string).toUpperCase();
  return {
    event: { ...event, httpMethod: method, headers, body, isBase64Encoded: event['isBase64Encoded'] === true },
    method,
    path: event['path'] as string,
  };
}

/** `GET /tasks/stream` is a server-sent events stream; a buffered Lambda response cannot carry it. */
function streamNotAvailable() {
  return {
    statusCode: 501,
    headers: { 'content-type': 'application/json' },
    isBase64Encoded: false,
    body: JSON.stringify({
      error: {
        code: 'not_implemented',
        message: 'GET /tasks/stream needs a streaming response, which this API (API Gateway + Lambda) does not give; poll GET /tasks/{id}/activity',
      },
    }),
  };
}

// An event as EventBridge delivers it to a target; the fields EventBridge always sets may be
// missing from a hand-made test event and get defaults, `id` may not (the task processor derives the task id from it).
const Envelope = z.object({
  version: z.literal('0').default('0'),
  id: z.string().min(1),
  'detail-type': z.string().min(1),
  source: z.string().min(1),
  account: z.string().default(''),
  time: z.string().default(() => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z')),
  region: z.string().default(''),
  resources: z.array(z.string()).default([]),
  detail: z.record(z.string(), z.unknown()),
});

function parseEnvelope(event: unknown): EventEnvelope {
  const parsed = Envelope.safeParse(event);
  if (!parsed.success) throw new ValidationError('not an EventBridge event (id, detail-type, source and an object detail are required)', parsed.error.issues);
  return parsed.data;
}

// PostgreSQL role names as the migrate function accepts them (they are written into SQL unquoted-safe).
const ROLE_NAME = /^[a-z_][a-z0-9_]{0,62}$/;
const IAM_ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;

/**
 * The SQL that makes `grant.role` the application's role: log in through IAM as
 * `grant.iamRoleArn`, use the `public` schema, read and write its tables. (`CREATE ROLE` runs
 * only when the role is missing; see {@link migrateAndGrant}.)
 */
export function appRoleStatements(grant: AppRoleGrant): { create: string; statements: string[] } {
  if (!ROLE_NAME.test(grant.role)) throw new ValidationError(`SPOOL_DSQL_APP_ROLE must match ${ROLE_NAME.source}`);
  if (grant.role === 'admin') throw new ValidationError('SPOOL_DSQL_APP_ROLE must not be admin: the application connects with dsql:DbConnect');
  if (!IAM_ROLE_ARN.test(grant.iamRoleArn)) throw new ValidationError(`SPOOL_DSQL_APP_IAM_ROLE_ARN must be an IAM role ARN, got ${JSON.stringify(grant.iamRoleArn)}`);
  return {
    create: `CREATE ROLE ${grant.role} WITH LOGIN`,
    statements: [
      `AWS IAM GRANT ${grant.role} TO '${grant.iamRoleArn}'`,
      `GRANT USAGE ON SCHEMA public TO ${grant.role}`,
      // Every table, the ones later migrations add included: migrate runs again after each one.
      `GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO ${grant.role}`,
    ],
  };
}

/**
 * Applies the migrations; then, on DSQL with a grant configured, creates the application role
 * if missing and (re)grants it, one statement per transaction (DSQL's rule for DDL). Idempotent:
 * a mapping that already exists is not an error.
 */
export async function migrateAndGrant(sql: Sql, grant: AppRoleGrant | undefined): Promise<MigrateOutcome> {
  const { applied } = await sql.migrate();
  if (grant === undefined || sql.dialect !== 'dsql') return { applied };
  const { create, statements } = appRoleStatements(grant);
  const existing = await sql.read((db) => rawSql<{ found: number }>`SELECT 1 AS found FROM pg_roles WHERE rolname = ${grant.role}`.execute(db));
  const created = existing.rows.length === 0;
  if (created) await sql.transaction((trx) => rawSql.raw(create).execute(trx));
  for (const statement of statements) {
    try {
      await sql.transaction((trx) => rawSql.raw(statement).execute(trx));
    } catch (error) {
      if (!alreadyDone(error)) throw error;
    }
  }
  return { applied, appRole: { role: grant.role, created, iamRoleArn: grant.iamRoleArn } };
}

/** A grant that exists already (`AWS IAM GRANT` of a mapping made before). */
function alreadyDone(error: unknown): boolean {
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    if (/already (exists|granted|a member)/i.test(e.message)) return true;
  }
  return false;
}

// Settings of this entry point beyond src/config.ts (which the other entry points share).
const TaskApiEnv = z.object({
  SPOOL_TASK_API_MODE: z.enum(['api', 'migrate']).default('api'),
  SPOOL_DSQL_APP_ROLE: z.string().regex(ROLE_NAME).optional(),
  SPOOL_DSQL_APP_IAM_ROLE_ARN: z.string().regex(IAM_ROLE_ARN).optional(),
});

/** The handler as the Lambda environment configures it (see the file comment). */
export function taskApiHandlerFromEnv(env: Readonly<Record<string, string | undefined>>): TaskApiHandler {
  const config = loadConfig(env);
  const logger = createLogger(config);
  const own = TaskApiEnv.parse(Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== '')));
  if (own.SPOOL_TASK_API_MODE === 'migrate') {
    const sql = createTaskSql(config);
    const grant = own.SPOOL_DSQL_APP_ROLE === undefined || own.SPOOL_DSQL_APP_IAM_ROLE_ARN === undefined
      ? undefined
      : { role: own.SPOOL_DSQL_APP_ROLE, iamRoleArn: own.SPOOL_DSQL_APP_IAM_ROLE_ARN };
    return createTaskApiHandler({ logger, migrate: () => migrateAndGrant(sql, grant) });
  }
  return createTaskApiHandler({ logger, system: createSystem(config, createSqlPorts(config), logger) });
}

// Built on the first invocation (the configuration is read once per execution environment).
let instance: TaskApiHandler | undefined;

/** The Lambda entry point (`task-processor-<env>` and `task-migrate-<env>`). */
export const handler: TaskApiHandler = (event, context) => (instance ??= taskApiHandlerFromEnv(process.env))(event, context);
