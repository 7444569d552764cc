import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import pg from 'pg';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteSql } from '../../src/adapters/sql/sqlite-sql.js';
import { loadConfig } from '../../src/config.js';
import { ConfigError, ValidationError } from '../../src/errors.js';
import type { EventBus, PutEventsEntry, PutEventsResult } from '../../src/ports/event-bus.js';
import {
  appRoleStatements,
  createTaskApiHandler,
  migrateAndGrant,
  taskApiEventKind,
  taskApiHandlerFromEnv,
  type TaskApiHandler,
} from '../../src/runtime/lambda/task-api.js';
import { createSqlPorts } from '../../src/runtime/lambda/sql-ports.js';
import { createSystem, type System } from '../../src/runtime/system.js';
import { TEST_DATABASE_URL } from '../support/postgres.js';
import { httpApiEvent, restApiEvent } from './fixtures.js';

interface ProxyResult {
  readonly statusCode: number;
  readonly body: string;
  readonly headers?: Record<string, string>;
}

/** A bus that records what is put on it (the EventBridge adapter has its own contract suite). */
class RecordingBus implements EventBus {
  readonly entries: PutEventsEntry[] = [];
  async putEvents(entries: readonly PutEventsEntry[]): Promise<PutEventsResult> {
    this.entries.push(...entries);
    return { failedEntryCount: 0, entries: entries.map(() => ({ eventId: randomUUID() })) };
  }
  async putRule(): Promise<void> {}
  async putTargets(): Promise<void> {}
  async removeRule(): Promise<void> {}
  async listRules() {
    return [];
  }
}

/** The event EventBridge hands the function after the recipe's `aws events put-events` (Source, DetailType, Detail on task-events-dev). */
function recipeEvent(detail: Record<string, unknown>, id = randomUUID()) {
  return {
    version: '0',
    id,
    'detail-type': 'Task Created',
    source: 'task.management',
    account: '123456789012',
    time: '2026-11-24T04:00:00Z',
    region: 'us-east-1',
    resources: [],
    detail,
  };
}

const RECIPE_DETAIL = { eventType: 'task.created', taskData: { title: 'Test Task', created_by: 'test@example.com' } };
const silent = pino({ level: 'silent' });

describe('task API handler (HTTP, EventBridge and migrate events) on an embedded SQL store', () => {
  let dir: string;
  let sql: SqliteSql;
  let bus: RecordingBus;
  let system: System;
  let handler: TaskApiHandler;
  const call = async (event: unknown) => (await handler(event, { getRemainingTimeInMillis: () => 30_000 })) as ProxyResult;
  const json = (result: ProxyResult) => JSON.parse(result.body) as Record<string, unknown>;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'spool-task-api-'));
    sql = SqliteSql.open(join(dir, 'sql.db'));
    bus = new RecordingBus();
    const config = loadConfig({ LOG_LEVEL: 'silent', SPOOL_ENVIRONMENT: 'dev' });
    system = createSystem(config, createSqlPorts(config, { sql, eventBus: bus }), silent);
    // Migrations are a deploy step on AWS (the migrate function); here the same call, once.
    const migrate = createTaskApiHandler({ logger: silent, migrate: () => migrateAndGrant(sql, undefined) });
    const outcome = (await migrate({ action: 'migrate' })) as { applied: string[] };
    expect(outcome.applied).toContain('0003_create_tasks');
    handler = createTaskApiHandler({ logger: silent, system });
  });
  afterAll(async () => {
    await system.ports.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('tells the kinds of event apart by shape', () => {
    expect(taskApiEventKind({ httpMethod: 'GET', path: '/tasks' })).toBe('http');
    expect(taskApiEventKind(httpApiEvent('GET', '/tasks'))).toBe('http');
    expect(taskApiEventKind(recipeEvent(RECIPE_DETAIL))).toBe('eventbridge');
    expect(taskApiEventKind({ action: 'migrate' })).toBe('migrate');
    for (const other of [null, 'GET /tasks', [], {}, { action: 'drop' }, { path: '/tasks' }]) expect(taskApiEventKind(other)).toBe('unknown');
  });

  it('answers the recipe\'s bare REST proxy event {"httpMethod":"GET","path":"/tasks"} with 200 JSON', async () => {
    const result = await call({ httpMethod: 'GET', path: '/tasks' });
    expect(result.statusCode).toBe(200);
    expect(result.headers?.['content-type']).toMatch(/^application\/json/);
    expect(json(result)).toHaveProperty('items');
  });

  it('serves a full REST (payload 1.0) event too', async () => {
    const result = (await handler(restApiEvent('GET', '/health'))) as ProxyResult;
    expect(result.statusCode).toBe(200);
    expect(json(result)).toMatchObject({ status: 'ok', backend: 'aws', checks: { sql: { status: 'ok' } } });
  });

  it('creates a task from POST /tasks in an HTTP API (payload 2.0) event: 201, ETag, and a Task Created event on task-events-dev', async () => {
    const result = await call(httpApiEvent('POST', '/tasks', { title: 'Write the infra', created_by: 'dev@example.com' }));
    expect(result.statusCode).toBe(201);
    const task = json(result);
    expect(task).toMatchObject({ title: 'Write the infra', created_by: 'dev@example.com', status: 'todo', version: 1 });
    expect(result.headers?.['etag']).toBe('"1"');
    const published = bus.entries.find((e) => JSON.parse(e.detail).taskId === task['id']);
    expect(published).toMatchObject({ source: 'task.management', detailType: 'Task Created', eventBusName: 'task-events-dev' });
  });

  it('accepts a REST event with an object body and no content type, as a hand-written `aws lambda invoke` payload has', async () => {
    const result = await call({ httpMethod: 'POST', path: '/users', body: { name: 'Ada', email: `ada-${randomUUID()}@example.com` } });
    expect(result.statusCode).toBe(201);
    expect(json(result)).toMatchObject({ name: 'Ada' });
  });

  it('creates the task of the recipe\'s EventBridge event exactly once, however often it is delivered', async () => {
    const event = recipeEvent(RECIPE_DETAIL);
    await expect(handler(event)).resolves.toEqual({ status: 'processed', eventId: event.id });
    await expect(handler(event)).resolves.toEqual({ status: 'processed', eventId: event.id });
    const list = json(await call({ httpMethod: 'GET', path: '/tasks' })) as { items: Array<Record<string, unknown>> };
    const created = list.items.filter((t) => t['title'] === 'Test Task');
    expect(created).toHaveLength(1);
    expect(created[0]).toMatchObject({ created_by: 'test@example.com', status: 'todo' });
  });

  it('throws on a malformed EventBridge event, so that Lambda retries it and then dead-letters it', async () => {
    await expect(handler(recipeEvent({ eventType: 'task.created', taskData: { created_by: 'x@example.com' } }))).rejects.toBeInstanceOf(ValidationError);
    await expect(handler(recipeEvent({ eventType: 'task.exploded' }))).rejects.toBeInstanceOf(ValidationError);
    const { id: _id, ...withoutId } = recipeEvent(RECIPE_DETAIL);
    await expect(handler(withoutId)).rejects.toThrow(/not an EventBridge event/);
    await expect(handler({ ...recipeEvent(RECIPE_DETAIL), detail: '{"eventType":"task.created"}' })).rejects.toThrow(/not an EventBridge event/);
  });

  it('throws on an event of no known shape, and refuses migrate on the API function', async () => {
    await expect(handler({ hello: 'world' })).rejects.toThrow(/unrecognized event/);
    await expect(handler({ action: 'migrate' })).rejects.toThrow(/does not run migrations/);
  });

  it('answers 501 for GET /tasks/stream (server-sent events cannot stream through a buffered Lambda response)', async () => {
    const result = await call({ httpMethod: 'GET', path: '/tasks/stream' });
    expect(result.statusCode).toBe(501);
    expect(json(result)).toMatchObject({ error: { code: 'not_implemented' } });
  });

  it('answers 503 not_deployed for the SQS stack\'s routes, which this deployment does not have', async () => {
    const result = await call(httpApiEvent('POST', '/orders', { amount: 5, currency: 'EUR' }));
    expect(result.statusCode).toBe(503);
    expect(json(result)).toMatchObject({ error: { code: 'not_deployed' } });
  });
});

describe('the migrate function', () => {
  it('refuses HTTP and EventBridge events', async () => {
    const migrateOnly = createTaskApiHandler({ logger: silent, migrate: async () => ({ applied: [] }) });
    await expect(migrateOnly({ httpMethod: 'GET', path: '/tasks' })).rejects.toThrow(/only runs migrations/);
    await expect(migrateOnly(recipeEvent(RECIPE_DETAIL))).rejects.toThrow(/does not process task events/);
  });

  it('grants the application role login through the API function\'s IAM role, the schema and table privileges', () => {
    const { create, statements } = appRoleStatements({ role: 'spool_app', iamRoleArn: 'arn:aws:iam::123456789012:role/spool-dev-tasks-TaskApiRole' });
    expect(create).toBe('CREATE ROLE spool_app WITH LOGIN');
    expect(statements).toEqual([
      "AWS IAM GRANT spool_app TO 'arn:aws:iam::123456789012:role/spool-dev-tasks-TaskApiRole'",
      'GRANT USAGE ON SCHEMA public TO spool_app',
      'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO spool_app',
    ]);
  });

  it('refuses role names and ARNs that are not what they claim (they are written into SQL)', () => {
    const arn = 'arn:aws:iam::123456789012:role/app';
    for (const role of ['admin', 'Spool', 'app; DROP TABLE tasks', '']) expect(() => appRoleStatements({ role, iamRoleArn: arn })).toThrow(ValidationError);
    for (const iamRoleArn of ["arn:aws:iam::123456789012:role/x' OR '1", 'arn:aws:iam::123456789012:user/bob', 'role/app']) {
      expect(() => appRoleStatements({ role: 'spool_app', iamRoleArn })).toThrow(ValidationError);
    }
  });

  it('migrates without grants off DSQL (roles and AWS IAM GRANT are DSQL-only)', async () => {
    const sql = SqliteSql.open(':memory:');
    try {
      const outcome = await migrateAndGrant(sql, { role: 'spool_app', iamRoleArn: 'arn:aws:iam::123456789012:role/app' });
      expect(outcome.applied.length).toBeGreaterThan(0);
      expect(outcome.appRole).toBeUndefined();
      expect((await migrateAndGrant(sql, undefined)).applied).toEqual([]);
    } finally {
      await sql.close();
    }
  });

  it('needs a SQL store in its configuration', () => {
    expect(() => taskApiHandlerFromEnv({ LOG_LEVEL: 'silent' })).toThrow(ConfigError);
    expect(() => taskApiHandlerFromEnv({ LOG_LEVEL: 'silent', SPOOL_TASK_API_MODE: 'migrate' })).toThrow(ConfigError);
  });
});

/**
 * The entry file bundled the way the CDK app bundles it (ESM, everything but the native
 * addons inlined), imported, and invoked as Lambda would: configured from the environment,
 * against the machine's PostgreSQL. Proves the bundle loads without better-sqlite3 or pg-native.
 */
describe('the built task-api bundle', () => {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  const out = join(root, 'node_modules', '.cache', `spool-task-api-bundle-${process.pid}`);
  const schema = `spool_task_api_${randomUUID().replaceAll('-', '')}`;
  let admin: pg.Client;
  let saved: NodeJS.ProcessEnv;

  beforeAll(async () => {
    saved = { ...process.env };
    admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await admin.connect();
    await admin.query(`CREATE SCHEMA ${schema}`);
    mkdirSync(out, { recursive: true });
    await build({
      entryPoints: [join(root, 'src/runtime/lambda/task-api.ts')],
      bundle: true,
      minify: true,
      platform: 'node',
      format: 'esm',
      target: 'node22',
      mainFields: ['module', 'main'],
      external: ['better-sqlite3', 'pg-native'],
      outfile: join(out, 'index.mjs'),
      banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
      logLevel: 'error',
    });
    const url = new URL(TEST_DATABASE_URL);
    url.searchParams.set('options', `-c search_path=${schema}`);
    Object.assign(process.env, { DATABASE_URL: url.toString(), LOG_LEVEL: 'silent', SPOOL_ENVIRONMENT: 'dev' });
  }, 120_000);
  afterAll(async () => {
    process.env = saved;
    await admin?.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin?.end();
    rmSync(out, { recursive: true, force: true });
  });

  it('migrates in migrate mode, then serves GET /tasks and the recipe event in API mode', async () => {
    type Bundle = { handler: TaskApiHandler };
    process.env['SPOOL_TASK_API_MODE'] = 'migrate';
    const migrator = ((await import(`${join(out, 'index.mjs')}?mode=migrate`)) as Bundle).handler;
    expect(await migrator({ action: 'migrate' })).toMatchObject({ applied: expect.arrayContaining(['0001_create_users', '0003_create_tasks']) });

    process.env['SPOOL_TASK_API_MODE'] = 'api';
    const api = ((await import(`${join(out, 'index.mjs')}?mode=api`)) as Bundle).handler;
    const event = recipeEvent(RECIPE_DETAIL);
    // Publishing the resulting change goes to EventBridge, unreachable here: logged, not thrown.
    process.env['SPOOL_AWS_ENDPOINT'] = 'http://127.0.0.1:9';
    await expect(api(event)).resolves.toMatchObject({ status: 'processed' });
    const listed = (await api({ httpMethod: 'GET', path: '/tasks' })) as ProxyResult;
    expect(listed.statusCode).toBe(200);
    expect(JSON.parse(listed.body)).toMatchObject({ items: [expect.objectContaining({ title: 'Test Task', created_by: 'test@example.com' })] });
  }, 60_000);
});
