/**
 * Property-based fuzzing of the write endpoints on the SQL store and the event bus, in
 * process (`system.app.request`): users, tasks, comments, PATCH of a task, PutEvents and
 * TestEventPattern, each with near-valid bodies (valid and invalid fields mixed), any JSON,
 * truncated JSON, raw text, no body and random content types.
 *
 * Properties: never a 5xx; every non-2xx is a 4xx with `{"error": {"code", "message"}}`; a
 * rejected write leaves nothing behind (the users and tasks tables grow by exactly the
 * accepted creates).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createEmbeddedPorts } from '../../src/runtime/embedded-ports.js';
import { createLogger } from '../../src/runtime/logger.js';
import { createSystem, type System } from '../../src/runtime/system.js';
import { contentTypes, requests, withExtras, type FuzzRequest } from '../support/request-arbitraries.js';

const RUNS = 400;

let system: System;
let dataDir: string;
let taskId: string;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'spool-fuzz-sql-'));
  const config = loadConfig({ SPOOL_DATA_DIR: dataDir, LOG_LEVEL: 'silent' });
  const logger = createLogger(config);
  system = createSystem(config, createEmbeddedPorts(config, logger), logger);
  await system.ports.sql!.migrate();
  const created = await system.app.request('/tasks', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"title":"target","created_by":"a@example.com"}' });
  taskId = ((await created.json()) as { id: string }).id;
});

afterAll(async () => {
  await system?.ports.close();
  rmSync(dataDir, { recursive: true, force: true });
});

async function send(method: string, request: FuzzRequest): Promise<{ status: number; headers: Headers; text: string }> {
  const headers = new Headers();
  if (request.contentType !== undefined) headers.set('content-type', request.contentType);
  if (request.body !== undefined) headers.set('content-length', String(Buffer.byteLength(request.body)));
  const response = await system.app.request(request.path, { method, headers, body: request.body });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

/** Never a 5xx; a non-2xx is a 4xx with the JSON error body. True when answered 2xx. */
function accepted(answer: { status: number; headers: Headers; text: string }): boolean {
  expect(answer.status, `${answer.status} ${answer.text}`).toBeLessThan(500);
  if (answer.status < 300) return true;
  expect(answer.status, answer.text).toBeGreaterThanOrEqual(400);
  expect(answer.headers.get('content-type') ?? '').toMatch(/^application\/json/);
  expect(JSON.parse(answer.text)).toMatchObject({ error: { code: expect.any(String), message: expect.any(String) } });
  return false;
}

const count = (table: 'users' | 'tasks') =>
  system.ports.sql!.read(async (db) => Number((await db.selectFrom(table).select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n));

const text = fc.oneof({ weight: 8, arbitrary: fc.string({ minLength: 1, maxLength: 40 }) }, fc.constant(''), fc.constant('   '), fc.string({ minLength: 250, maxLength: 300 }));
const anything = fc.oneof(text, fc.integer(), fc.boolean(), fc.constant(null), fc.jsonValue({ maxDepth: 2 }));
const word = fc.stringMatching(/^[a-z0-9]{1,12}$/);
// fast-check's emailAddress() is RFC-wide; most of its addresses are outside zod's practical subset.
const plainEmail = fc.tuple(word, word).map(([user, host]) => `${user}@${host}.example`);
const email = fc.oneof({ weight: 6, arbitrary: plainEmail }, fc.emailAddress(), text);
const actor = fc.oneof({ weight: 6, arbitrary: plainEmail }, text, fc.constant('a\u0000b'));
/** Mostly a value of `arb`; sometimes anything, sometimes absent. */
const maybe = <T>(arb: fc.Arbitrary<T>): fc.Arbitrary<unknown> =>
  fc.oneof({ weight: 12, arbitrary: arb }, { weight: 1, arbitrary: anything }, { weight: 1, arbitrary: fc.constant(undefined) });

const userBody = withExtras(fc.record({ name: maybe(text), email: maybe(email) }, { requiredKeys: [] }));
const taskFields = {
  title: maybe(text),
  description: maybe(fc.oneof(text, fc.constant(null))),
  status: maybe(fc.oneof({ weight: 6, arbitrary: fc.constantFrom('todo', 'in_progress', 'done') }, fc.constantFrom('TODO', 'doing'))),
  priority: maybe(fc.oneof({ weight: 6, arbitrary: fc.constantFrom('low', 'medium', 'high') }, fc.constant('urgent'))),
  assignee: maybe(fc.oneof(actor, fc.constant(null))),
  due_date: maybe(fc.oneof({ weight: 6, arbitrary: fc.constant('2026-12-01') }, fc.constantFrom('2026-13-01', '2026-12-01T00:00:00Z', 'tomorrow'))),
};
const taskBody = withExtras(fc.record({ ...taskFields, created_by: maybe(actor) }, { requiredKeys: [] }));
const patchBody = withExtras(fc.record(taskFields, { requiredKeys: [] }));
const commentBody = withExtras(fc.record({ author: maybe(actor), body: maybe(text) }, { requiredKeys: [] }));
const jsonText = fc.oneof(fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)), text);
const entry = withExtras(
  fc.record(
    {
      Source: maybe(fc.constantFrom('task.management', '')),
      DetailType: maybe(fc.constantFrom('Task Created', 'Task Updated')),
      Detail: maybe(fc.oneof(jsonText, fc.constant('{"eventType":"task.created","taskData":{"title":"x","created_by":"a@example.com"}}'))),
      EventBusName: maybe(fc.constantFrom('task-events-dev', 'default', 'no such/bus!', 'arn:aws:events:us-east-1:123456789012:event-bus/task-events-dev')),
      Time: maybe(fc.oneof(fc.integer(), fc.constant('2026-11-24T00:00:00Z'), fc.constant('yesterday'))),
      Resources: maybe(fc.array(text, { maxLength: 3 })),
    },
    { requiredKeys: [] },
  ),
);
const entries = fc.oneof({ weight: 8, arbitrary: fc.array(entry, { minLength: 1, maxLength: 3 }) }, fc.array(entry, { maxLength: 12 }));
const putEventsBody = withExtras(fc.record({ Entries: maybe(entries) }, { requiredKeys: [] }));
const VALID_PATTERNS = [
  '{"source":["task.management"],"detail-type":["Task Created","Task Updated"]}',
  '{"detail":{"priority":[{"anything-but":"low"}]}}',
  '{"detail":{"n":[{"numeric":[">",0,"<=",5]}]}}',
  '{"$or":[{"source":[{"prefix":"task."}]},{"detail":{"x":[{"exists":true}]}}]}',
];
/** Patterns built from the operators, valid or not. */
const patternValue = fc.letrec((tie) => ({
  pattern: fc.dictionary(fc.constantFrom('source', 'detail-type', 'detail', 'priority', '$or', 'x'), tie('value'), { maxKeys: 3 }),
  value: fc.oneof(
    { depthSize: 'small' },
    fc.array(
      fc.oneof(
        fc.string({ maxLength: 5 }),
        fc.integer(),
        fc.constant(null),
        fc.record({ prefix: anything }, { requiredKeys: [] }),
        fc.record({ 'anything-but': anything }, { requiredKeys: [] }),
        fc.record({ numeric: fc.array(fc.oneof(fc.constantFrom('<', '>=', '='), fc.integer()), { maxLength: 4 }) }),
        fc.record({ exists: anything }),
        fc.record({ cidr: fc.constantFrom('10.0.0.0/8', '10.0.0.0/33', 'x') }),
        fc.record({ wildcard: fc.constantFrom('a*b', '**', '') }),
      ),
      { maxLength: 3 },
    ),
    tie('pattern'),
  ),
}));
const validEvent = fc
  .dictionary(word, fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 })
  .map((detail) => ({ id: '1', account: '123456789012', source: 'task.management', time: '2026-01-01T00:00:00Z', region: 'us-east-1', resources: [], 'detail-type': 'Task Created', detail }));
const brokenEvent = fc
  .record({ id: maybe(fc.constant('1')), source: maybe(text), time: maybe(fc.constantFrom('2026-01-01T00:00:00Z', 'now')), 'detail-type': maybe(text), detail: maybe(fc.jsonValue({ maxDepth: 2 })) }, { requiredKeys: [] });
// Mostly complete events (as TestEventPattern requires), some with fields missing or malformed.
const eventJson = fc.oneof({ weight: 4, arbitrary: validEvent }, brokenEvent).map((e) => JSON.stringify(e));
const testPatternBody = withExtras(
  fc.record(
    {
      EventPattern: maybe(fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...VALID_PATTERNS) }, patternValue.pattern.map((p) => JSON.stringify(p)), jsonText)),
      Event: maybe(fc.oneof({ weight: 3, arbitrary: eventJson }, jsonText)),
    },
    { requiredKeys: [] },
  ),
);

describe('write endpoints on the SQL store and the event bus, fuzzed', () => {
  it(`POST /users and POST /tasks: never 5xx, errors as JSON, and the tables grow by exactly the accepted creates (${RUNS} each)`, async () => {
    for (const [path, body, table] of [
      ['/users', userBody, 'users'],
      ['/tasks', taskBody, 'tasks'],
    ] as const) {
      const before = await count(table);
      let created = 0;
      await fc.assert(
        fc.asyncProperty(requests(fc.constant(path), body), async (request) => {
          if (accepted(await send('POST', request))) created++;
        }),
        { numRuns: RUNS },
      );
      expect(await count(table)).toBe(before + created);
      // The near-valid bodies reach the service, not only the validators.
      expect(created, path).toBeGreaterThan(RUNS / 50);
    }
  });

  /** Runs the property and returns how many requests were answered 2xx. */
  const fuzz = async (method: string, arbitrary: fc.Arbitrary<FuzzRequest>) => {
    let ok = 0;
    await fc.assert(fc.asyncProperty(arbitrary, async (request) => void (accepted(await send(method, request)) && ok++)), { numRuns: RUNS });
    return ok;
  };

  it(`PATCH /tasks/{id} and POST /tasks/{id}/comments: never 5xx, errors as JSON (${RUNS} each)`, async () => {
    const paths = fc.oneof({ weight: 8, arbitrary: fc.constant(taskId) }, { weight: 1, arbitrary: fc.uuid() }, { weight: 1, arbitrary: text.map(encodeURIComponent) });
    expect(await fuzz('PATCH', requests(paths.map((id) => `/tasks/${id}`), patchBody))).toBeGreaterThan(RUNS / 50);
    expect(await fuzz('POST', requests(paths.map((id) => `/tasks/${id}/comments`), commentBody))).toBeGreaterThan(RUNS / 50);
  });

  it(`POST /events (PutEvents) and POST /events/test-pattern: never 5xx, errors as JSON (${RUNS} each)`, async () => {
    expect(await fuzz('POST', requests(fc.constant('/events'), putEventsBody))).toBeGreaterThan(RUNS / 50);
    expect(await fuzz('POST', requests(fc.constant('/events/test-pattern'), testPatternBody))).toBeGreaterThan(RUNS / 50);
  });

  it('uses every content type the generators offer (the fuzzing reaches the validators, not only the 415 guard)', () => {
    const samples = fc.sample(contentTypes, 200);
    expect(samples.filter((t) => t !== undefined && /^application\/json/i.test(t)).length).toBeGreaterThan(50);
  });
});
