/**
 * Bad input over real HTTP: every malformed, mistyped, unknown or oversized request gets
 * a 4xx with the JSON error body `{"error": {"code", "message", "details"?}}`, never a
 * 5xx, and stores nothing.
 *
 * "Nothing stored" is checked with three oracles, before and after each request:
 * - the jobs and orders queues' messages (visible + delayed + in flight);
 * - the job records of every status, as `GET /jobs?status=...` lists them;
 * - the rows of the jobs and orders tables in the embedded SQLite file. Orders have no
 *   listing endpoint, and the event sources consume a wrongly accepted order within
 *   milliseconds (so the queue count alone could miss it), but its record stays: the row
 *   count is exact. It also sees idempotency records, which no endpoint lists.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JOB_STATUSES } from '../../src/domain/jobs/job.js';
import { eventually, startTestSpool, type TestSpool } from '../support/local-spool.js';

const BODY_LIMIT = 256 * 1024;
const BODY_ENDPOINTS = ['/submit', '/jobs', '/orders'] as const;
const SUBMIT_ENDPOINTS = ['/submit', '/jobs'] as const;
const ID_PATHS = ['/status/{id}', '/jobs/{id}', '/jobs/{id}/result', '/orders/{id}'] as const;
type BodyEndpoint = (typeof BODY_ENDPOINTS)[number];

/** A request body that each endpoint would accept, for cases that break something else. */
const VALID_BODY: Record<BodyEndpoint, unknown> = {
  '/submit': { task: 'echo', data: { hello: 'world' } },
  '/jobs': { task: 'echo', data: { hello: 'world' } },
  '/orders': { amount: 10.5, currency: 'EUR' },
};

let spool: TestSpool;
let db: Database.Database;

beforeAll(async () => {
  spool = await startTestSpool();
  db = new Database(join(spool.dataDir, 'spool.db'), { readonly: true, fileMustExist: true });
});

afterAll(async () => {
  db?.close();
  await spool?.dispose();
});

// ---------------------------------------------------------------------------------------
// Helpers

interface Answer {
  readonly status: number;
  readonly contentType: string;
  readonly body: unknown;
}

interface Stored {
  readonly jobsQueue: number;
  readonly ordersQueue: number;
  readonly jobRecords: number;
  readonly jobRows: number;
  readonly orderRows: number;
}

async function send(path: string, init: RequestInit = {}): Promise<Answer> {
  const response = await fetch(`${spool.url}${path}`, init);
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // left as text: the assertions below report it
  }
  return { status: response.status, contentType: response.headers.get('content-type') ?? '', body };
}

/** A POST with a raw body and `application/json` unless `headers` says otherwise. */
function post(rawBody: string, headers: Record<string, string> = {}): RequestInit {
  return { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: rawBody };
}

async function waitingMessages(queue: 'jobsQueue' | 'ordersQueue'): Promise<number> {
  const stats = await spool.system.ports[queue].stats();
  return stats.visible + stats.delayed + stats.inFlight;
}

async function countJobRecords(): Promise<number> {
  let total = 0;
  for (const status of JOB_STATUSES) {
    let cursor: string | undefined;
    do {
      const query = `/jobs?status=${status}&limit=100${cursor === undefined ? '' : `&cursor=${encodeURIComponent(cursor)}`}`;
      const page = await send(query);
      expect(page.status, `GET ${query}`).toBe(200);
      const body = page.body as { items: unknown[]; cursor?: string };
      total += body.items.length;
      cursor = body.cursor;
    } while (cursor !== undefined);
  }
  return total;
}

function countRows(table: 'jobs' | 'orders'): number {
  const row = db.prepare('SELECT count(*) AS n FROM table_items WHERE tbl = ?').get(table) as { n: number };
  return row.n;
}

async function stored(): Promise<Stored> {
  return {
    jobsQueue: await waitingMessages('jobsQueue'),
    ordersQueue: await waitingMessages('ordersQueue'),
    jobRecords: await countJobRecords(),
    jobRows: countRows('jobs'),
    orderRows: countRows('orders'),
  };
}

function expectErrorAnswer(answer: Answer, status: number): void {
  expect({ status: answer.status, body: answer.body }).toMatchObject({
    status,
    body: { error: { code: expect.any(String), message: expect.any(String) } },
  });
  expect(answer.contentType).toMatch(/^application\/json/);
}

/**
 * Waits until the event sources have finished with whatever is visible or in flight, so the
 * queue counts hold still (the only messages this file leaves are delayed for 900 s). Without
 * it, a request wrongly accepted by one case would be consumed during the next one.
 */
async function settled(): Promise<Stored> {
  const idle = await eventually(
    async () => [await spool.system.ports.jobsQueue.stats(), await spool.system.ports.ordersQueue.stats()],
    (stats) => stats.every((s) => s.visible + s.inFlight === 0),
  );
  expect(idle.map((s) => s.visible + s.inFlight), 'queues never became idle').toEqual([0, 0]);
  return stored();
}

/** Sends the request and asserts the exact error status, the JSON error body and that nothing was stored. */
async function expectRejected(path: string, init: RequestInit, status: number): Promise<Answer> {
  const before = await settled();
  const answer = await send(path, init);
  expectErrorAnswer(answer, status);
  expect(await stored()).toEqual(before);
  return answer;
}

/** `prefix` + padding + `suffix`, exactly `bytes` long (ASCII). */
function padded(prefix: string, suffix: string, bytes: number): string {
  return prefix + 'x'.repeat(bytes - prefix.length - suffix.length) + suffix;
}

/** A body streamed in 16 KiB chunks: no Content-Length, `Transfer-Encoding: chunked`. */
function chunked(text: string): RequestInit {
  const bytes = new TextEncoder().encode(text);
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      for (let offset = 0; offset < bytes.length; offset += 16 * 1024) controller.enqueue(bytes.subarray(offset, offset + 16 * 1024));
      controller.close();
    },
  });
  return { body: stream, duplex: 'half' } as RequestInit;
}

const nested = (depth: number): string => '['.repeat(depth) + ']'.repeat(depth);

// ---------------------------------------------------------------------------------------
// Bodies that are not a JSON object

interface RawCase {
  readonly name: string;
  readonly body: string;
}

const MALFORMED_JSON: readonly RawCase[] = [
  { name: 'an empty body', body: '' },
  { name: 'only whitespace', body: '   \n' },
  { name: 'a truncated object', body: '{"data": "x"' },
  { name: 'a missing value', body: '{"data": }' },
  { name: 'single-quoted strings', body: "{'data': 'x'}" },
  { name: 'a trailing comma', body: '{"data": "x",}' },
  { name: 'trailing garbage after the object', body: '{"data": "x"} trailing' },
  { name: 'two concatenated objects', body: '{"data": "x"}{"data": "y"}' },
  { name: 'NaN', body: 'NaN' },
  { name: 'undefined as a value', body: '{"data": undefined}' },
  { name: 'an unescaped control character in a string', body: '{"data": "a\u0001b"}' },
  { name: 'a JavaScript comment', body: '{"data": "x" /* note */}' },
];

const NOT_AN_OBJECT: readonly RawCase[] = [
  { name: 'an empty array', body: '[]' },
  { name: 'an array holding a valid body', body: '[{"task": "echo", "data": "x"}]' },
  { name: 'a string', body: '"data"' },
  { name: 'null', body: 'null' },
  { name: 'zero', body: '0' },
  { name: 'a number', body: '42' },
  { name: 'true', body: 'true' },
  { name: 'false', body: 'false' },
];

describe.each(BODY_ENDPOINTS)('POST %s with a body that is not a JSON object', (path) => {
  it.each(MALFORMED_JSON)('answers 400 to malformed JSON: $name', async ({ body }) => {
    await expectRejected(path, post(body), 400);
  });

  it.each(NOT_AN_OBJECT)('answers 400 to JSON that is not an object: $name', async ({ body }) => {
    await expectRejected(path, post(body), 400);
  });
});

// ---------------------------------------------------------------------------------------
// Content types

interface ContentTypeCase {
  readonly name: string;
  readonly init: (validJson: string) => RequestInit;
}

const WRONG_CONTENT_TYPES: readonly ContentTypeCase[] = [
  { name: 'text/plain', init: (json) => post(json, { 'content-type': 'text/plain' }) },
  { name: 'text/plain;charset=UTF-8', init: (json) => post(json, { 'content-type': 'text/plain;charset=UTF-8' }) },
  { name: 'an urlencoded form', init: () => post('data=x&task=echo', { 'content-type': 'application/x-www-form-urlencoded' }) },
  {
    name: 'a multipart form',
    init: () => {
      const form = new FormData();
      form.set('data', 'x');
      return { method: 'POST', body: form };
    },
  },
  { name: 'application/xml', init: () => post('<data>x</data>', { 'content-type': 'application/xml' }) },
  { name: 'application/javascript', init: (json) => post(json, { 'content-type': 'application/javascript' }) },
  { name: 'a JSON look-alike (application/jsonx)', init: (json) => post(json, { 'content-type': 'application/jsonx' }) },
  { name: 'application/json with a dangling parameter separator', init: (json) => post(json, { 'content-type': 'application/json;' }) },
  // A Uint8Array body makes fetch send no Content-Type at all.
  { name: 'no content type', init: (json) => ({ method: 'POST', body: new TextEncoder().encode(json) }) },
];

describe.each(BODY_ENDPOINTS)('POST %s with a content type other than application/json', (path) => {
  it.each(WRONG_CONTENT_TYPES)('answers 415 to $name', async ({ init }) => {
    await expectRejected(path, init(JSON.stringify(VALID_BODY[path])), 415);
  });
});

// ---------------------------------------------------------------------------------------
// Job submissions

interface BodyCase {
  readonly name: string;
  /** A value to JSON-encode, or raw JSON text when a value cannot say it (`__proto__`, 1e400). */
  readonly body: unknown;
  readonly raw?: true;
}

const encode = ({ body, raw }: BodyCase): string => (raw === true ? String(body) : JSON.stringify(body));

const SUBMIT_WRONG_TYPES: readonly BodyCase[] = [
  { name: 'task is a number', body: { task: 1, data: 'x' } },
  { name: 'task is null', body: { task: null, data: 'x' } },
  { name: 'task is a boolean', body: { task: true, data: 'x' } },
  { name: 'task is an array', body: { task: ['echo'], data: 'x' } },
  { name: 'task is an object', body: { task: { name: 'echo' }, data: 'x' } },
  { name: 'delaySeconds is a numeric string', body: { data: 'x', delaySeconds: '10' } },
  { name: 'delaySeconds is null', body: { data: 'x', delaySeconds: null } },
  { name: 'delaySeconds is a boolean', body: { data: 'x', delaySeconds: true } },
  { name: 'callbackUrl is a number', body: { data: 'x', callbackUrl: 42 } },
  { name: 'callbackUrl is an object', body: { data: 'x', callbackUrl: { href: 'https://example.com' } } },
];

const SUBMIT_UNKNOWN_FIELDS: readonly BodyCase[] = [
  { name: 'an extra field', body: { data: 'x', extra: 1 } },
  { name: 'a field in the wrong case (Task)', body: { Task: 'echo', data: 'x' } },
  { name: 'a snake_case field (delay_seconds)', body: { data: 'x', delay_seconds: 5 } },
  { name: 'a client-chosen jobId', body: { data: 'x', jobId: randomUUID() } },
  { name: 'a client-chosen status', body: { data: 'x', status: 'completed' } },
  { name: 'a __proto__ key', body: '{"data": "x", "__proto__": {"task": "fail"}}', raw: true },
  { name: 'a constructor key', body: { data: 'x', constructor: { name: 'x' } } },
];

const SUBMIT_UNKNOWN_TASKS: readonly BodyCase[] = [
  { name: 'an unregistered name', body: { task: 'nope', data: 'x' } },
  { name: 'a registered name in another case', body: { task: 'ECHO', data: 'x' } },
  { name: 'a registered name with a leading space', body: { task: ' echo', data: 'x' } },
  { name: 'a registered name with a trailing space', body: { task: 'echo ', data: 'x' } },
  { name: 'a dashed variant of a registered name', body: { task: 'process-data', data: 'x' } },
  { name: '__proto__', body: { task: '__proto__', data: 'x' } },
  { name: 'constructor', body: { task: 'constructor', data: 'x' } },
  { name: 'toString', body: { task: 'toString', data: 'x' } },
  { name: 'an empty string', body: { task: '', data: 'x' } },
  { name: 'a name over 64 characters', body: { task: 'x'.repeat(65), data: 'x' } },
];

const SUBMIT_INVALID_TASK_DATA: readonly BodyCase[] = [
  { name: 'sleep for longer than 30000 ms', body: { task: 'sleep', data: { ms: 30_001 } } },
  { name: 'sleep for a negative time', body: { task: 'sleep', data: { ms: -1 } } },
  { name: 'sleep for a fractional time', body: { task: 'sleep', data: { ms: 1.5 } } },
  { name: 'sleep with ms as a string', body: { task: 'sleep', data: { ms: '100' } } },
  { name: 'sleep without ms', body: { task: 'sleep', data: {} } },
  { name: 'sleep with an extra field', body: { task: 'sleep', data: { ms: 10, extra: true } } },
  { name: 'sleep with a bare number', body: { task: 'sleep', data: 100 } },
  { name: 'fail with an empty message', body: { task: 'fail', data: { message: '' } } },
  { name: 'fail with a message over 1000 characters', body: { task: 'fail', data: { message: 'x'.repeat(1001) } } },
  { name: 'fail with a numeric message', body: { task: 'fail', data: { message: 1 } } },
  { name: 'fail with an extra field', body: { task: 'fail', data: { message: 'boom', extra: true } } },
  // ~20 KB of JSON, far under the body limit: must be a 400, not a stack overflow (500).
  { name: 'process_data with data nested 10000 levels deep', body: `{"data": ${nested(10_000)}}`, raw: true },
  { name: 'echo with data nested 10000 levels deep', body: `{"task": "echo", "data": ${nested(10_000)}}`, raw: true },
];

const SUBMIT_BAD_DELAYS: readonly BodyCase[] = [
  { name: 'negative', body: { data: 'x', delaySeconds: -1 } },
  { name: 'over 900 (the SQS maximum)', body: { data: 'x', delaySeconds: 901 } },
  { name: 'fractional', body: { data: 'x', delaySeconds: 1.5 } },
  { name: 'infinite (1e400)', body: '{"data": "x", "delaySeconds": 1e400}', raw: true },
];

const SUBMIT_BAD_CALLBACKS: readonly BodyCase[] = [
  { name: 'an ftp: URL', body: { data: 'x', callbackUrl: 'ftp://example.com/hook' } },
  { name: 'a file: URL', body: { data: 'x', callbackUrl: 'file:///etc/passwd' } },
  { name: 'a javascript: URL', body: { data: 'x', callbackUrl: 'javascript:alert(1)' } },
  { name: 'a mailto: URL', body: { data: 'x', callbackUrl: 'mailto:ops@example.com' } },
  { name: 'not a URL', body: { data: 'x', callbackUrl: 'not a url' } },
  { name: 'a scheme-relative URL', body: { data: 'x', callbackUrl: '//example.com/hook' } },
  { name: 'a URL without a host', body: { data: 'x', callbackUrl: 'http://' } },
  { name: 'an empty string', body: { data: 'x', callbackUrl: '' } },
  { name: 'a URL over 2048 characters', body: { data: 'x', callbackUrl: `https://example.com/${'a'.repeat(2048)}` } },
];

describe.each(SUBMIT_ENDPOINTS)('POST %s with an invalid job submission', (path) => {
  it.each(SUBMIT_WRONG_TYPES)('answers 400 when $name', async (c) => {
    await expectRejected(path, post(encode(c)), 400);
  });

  it.each(SUBMIT_UNKNOWN_FIELDS)('answers 400 to $name (the body is strict)', async (c) => {
    await expectRejected(path, post(encode(c)), 400);
  });

  it.each(SUBMIT_UNKNOWN_TASKS)('answers 400 to a task that is $name', async (c) => {
    await expectRejected(path, post(encode(c)), 400);
  });

  it.each(SUBMIT_INVALID_TASK_DATA)('answers 400 to $name', async (c) => {
    await expectRejected(path, post(encode(c)), 400);
  });

  it.each(SUBMIT_BAD_DELAYS)('answers 400 when delaySeconds is $name', async (c) => {
    await expectRejected(path, post(encode(c)), 400);
  });

  it.each(SUBMIT_BAD_CALLBACKS)('answers 400 when callbackUrl is $name', async (c) => {
    await expectRejected(path, post(encode(c)), 400);
  });
});

interface HeaderCase {
  readonly name: string;
  readonly key: string;
}

const BAD_IDEMPOTENCY_KEYS: readonly HeaderCase[] = [
  { name: 'empty', key: '' },
  { name: 'over 128 characters', key: 'k'.repeat(129) },
  { name: 'far over 128 characters (4 KiB)', key: 'k'.repeat(4096) },
  { name: 'holding a space', key: 'my key' },
  { name: 'holding a tab', key: 'my\tkey' },
  { name: 'holding a non-ASCII character', key: 'cl\u00e9' },
];

describe.each(SUBMIT_ENDPOINTS)('POST %s with a bad Idempotency-Key', (path) => {
  it.each(BAD_IDEMPOTENCY_KEYS)('answers 400 to a key $name', async ({ key }) => {
    await expectRejected(path, post(JSON.stringify(VALID_BODY[path]), { 'idempotency-key': key }), 400);
  });

  it('answers 409 to a key reused with a different body, and stores nothing more', async () => {
    // Arrange: the first job waits 900 s, so the event sources leave it alone during the test.
    const key = `bad-input-${randomUUID()}`;
    const first = await send(path, post(JSON.stringify({ task: 'echo', data: 'first', delaySeconds: 900 }), { 'idempotency-key': key }));
    expect(first.status).toBe(202);

    // Act + Assert
    const answer = await expectRejected(path, post(JSON.stringify({ task: 'echo', data: 'second', delaySeconds: 900 }), { 'idempotency-key': key }), 409);
    expect(answer.body).toMatchObject({ error: { code: 'conflict' } });
  });
});

// ---------------------------------------------------------------------------------------
// Orders

const ORDER_BAD_AMOUNTS: readonly BodyCase[] = [
  { name: 'zero', body: { amount: 0, currency: 'EUR' } },
  { name: 'negative', body: { amount: -1, currency: 'EUR' } },
  { name: 'minus one cent', body: { amount: -0.01, currency: 'EUR' } },
  { name: 'with 3 decimals (1.005)', body: { amount: 1.005, currency: 'EUR' } },
  { name: 'a tenth of a cent (0.001)', body: { amount: 0.001, currency: 'EUR' } },
  { name: 'with 9 decimals (0.000000001)', body: { amount: 0.000000001, currency: 'EUR' } },
  { name: 'with 9 decimals (10.000000001)', body: { amount: 10.000000001, currency: 'EUR' } },
  { name: 'a numeric string', body: { amount: '10.00', currency: 'EUR' } },
  { name: 'null', body: { amount: null, currency: 'EUR' } },
  { name: 'a boolean', body: { amount: true, currency: 'EUR' } },
  { name: 'an array', body: { amount: [10], currency: 'EUR' } },
  { name: 'over 1e9', body: { amount: 1_000_000_000.01, currency: 'EUR' } },
  { name: 'huge (1e300)', body: { amount: 1e300, currency: 'EUR' } },
  { name: 'infinite (1e400)', body: '{"amount": 1e400, "currency": "EUR"}', raw: true },
  { name: 'missing', body: { currency: 'EUR' } },
];

const ORDER_BAD_CURRENCIES: readonly BodyCase[] = [
  { name: 'lower-case', body: { amount: 10, currency: 'eur' } },
  { name: 'mixed-case', body: { amount: 10, currency: 'Eur' } },
  { name: 'an unknown code (ABC)', body: { amount: 10, currency: 'ABC' } },
  { name: 'an unknown code (QQQ)', body: { amount: 10, currency: 'QQQ' } },
  { name: '4 letters', body: { amount: 10, currency: 'EURO' } },
  { name: '2 letters', body: { amount: 10, currency: 'EU' } },
  { name: 'padded with a space', body: { amount: 10, currency: 'EUR ' } },
  { name: 'the numeric ISO code', body: { amount: 10, currency: 978 } },
  { name: 'null', body: { amount: 10, currency: null } },
  { name: 'missing', body: { amount: 10 } },
];

const ORDER_UNKNOWN_FIELDS: readonly BodyCase[] = [
  { name: 'an extra field', body: { amount: 10, currency: 'EUR', note: 'x' } },
  { name: 'a client-chosen status', body: { amount: 10, currency: 'EUR', status: 'confirmed' } },
  { name: 'a client-chosen orderId', body: { amount: 10, currency: 'EUR', orderId: randomUUID() } },
  { name: 'a field in the wrong case (Amount)', body: { Amount: 10, currency: 'EUR' } },
  { name: 'a __proto__ key', body: '{"amount": 10, "currency": "EUR", "__proto__": {"status": "confirmed"}}', raw: true },
  { name: 'an empty object', body: {} },
];

describe('POST /orders with an invalid order', () => {
  it.each(ORDER_BAD_AMOUNTS)('answers 400 when the amount is $name', async (c) => {
    await expectRejected('/orders', post(encode(c)), 400);
  });

  it.each(ORDER_BAD_CURRENCIES)('answers 400 when the currency is $name', async (c) => {
    await expectRejected('/orders', post(encode(c)), 400);
  });

  it.each(ORDER_UNKNOWN_FIELDS)('answers 400 to $name (the body is strict)', async (c) => {
    await expectRejected('/orders', post(encode(c)), 400);
  });
});

// ---------------------------------------------------------------------------------------
// Ids in paths

interface IdCase {
  readonly name: string;
  /** Already percent-encoded as it goes in the path. */
  readonly id: string;
}

const INVALID_IDS: readonly IdCase[] = [
  { name: 'a word', id: 'not-a-uuid' },
  { name: 'a number', id: '123' },
  { name: 'a UUID without dashes', id: randomUUID().replaceAll('-', '') },
  { name: 'a UUID with an extra character', id: `${randomUUID()}0` },
  { name: 'a UUID with a non-hex character', id: `g${randomUUID().slice(1)}` },
  { name: 'a UUID in braces', id: `%7B${randomUUID()}%7D` },
  { name: 'an encoded path traversal (..%2F..%2Fetc)', id: '..%2F..%2Fetc' },
  { name: 'an encoded path traversal to /etc/passwd', id: '..%2F..%2F..%2Fetc%2Fpasswd' },
  { name: 'a NUL byte', id: '%00' },
  { name: 'an SQL injection attempt', id: encodeURIComponent("' OR 1=1 --") },
  { name: 'a table key of another record (JOB#...)', id: encodeURIComponent(`JOB#${randomUUID()}`) },
];

const withId = (template: string, id: string): string => template.replace('{id}', id);

describe.each(ID_PATHS)('GET %s', (template) => {
  it.each(INVALID_IDS)('answers 400 when the id is $name', async ({ id }) => {
    await expectRejected(withId(template, id), {}, 400);
  });

  it('answers 404 to a well-formed UUID that names nothing', async () => {
    await expectRejected(withId(template, randomUUID()), {}, 404);
  });
});

describe('GET with dot segments in the path', () => {
  it('answers 404 JSON once the URL parser has resolved %2e%2e segments to another route', async () => {
    // fetch (like every WHATWG URL client) turns /jobs/%2e%2e/%2e%2e/etc into /etc.
    await expectRejected('/jobs/%2e%2e/%2e%2e/etc', {}, 404);
  });
});

// ---------------------------------------------------------------------------------------
// Query strings

interface QueryCase {
  readonly name: string;
  readonly query: string;
}

const garbageCursor = (value: string): string => encodeURIComponent(Buffer.from(value).toString('base64url'));

const BAD_LIST_QUERIES: readonly QueryCase[] = [
  { name: 'no status', query: '' },
  { name: 'an unknown status', query: 'status=lost' },
  { name: 'a status in upper case', query: 'status=QUEUED' },
  { name: 'two statuses', query: 'status=queued&status=failed' },
  { name: 'an unknown query parameter', query: 'status=queued&foo=bar' },
  { name: 'a misspelt parameter (limt)', query: 'status=queued&limt=5' },
  { name: 'limit=0', query: 'status=queued&limit=0' },
  { name: 'limit=101', query: 'status=queued&limit=101' },
  { name: 'a negative limit', query: 'status=queued&limit=-1' },
  { name: 'a fractional limit', query: 'status=queued&limit=1.5' },
  { name: 'a non-numeric limit', query: 'status=queued&limit=abc' },
  { name: 'an empty limit', query: 'status=queued&limit=' },
  { name: 'two limits', query: 'status=queued&limit=1&limit=2' },
  { name: 'a cursor that is not base64', query: 'status=queued&cursor=!!!not-base64!!!' },
  { name: 'a cursor that is base64 of non-JSON', query: `status=queued&cursor=${garbageCursor('foo')}` },
  { name: 'a cursor that is base64 of an array', query: `status=queued&cursor=${garbageCursor('[]')}` },
  { name: 'a cursor with mistyped fields', query: `status=queued&cursor=${garbageCursor('{"p":1,"s":2}')}` },
  { name: 'a cursor over 2048 characters', query: `status=queued&cursor=${'A'.repeat(2049)}` },
];

const BAD_DLQ_QUERIES: readonly QueryCase[] = [
  { name: 'limit=0', query: 'limit=0' },
  { name: 'limit=101', query: 'limit=101' },
  { name: 'a non-numeric limit', query: 'limit=ten' },
  { name: 'an unknown query parameter', query: 'all=true' },
];

const BAD_REDRIVE_QUERIES: readonly QueryCase[] = [
  { name: 'limit=0', query: 'limit=0' },
  { name: 'limit=10001', query: 'limit=10001' },
  { name: 'a non-numeric limit', query: 'limit=all' },
  { name: 'an unknown query parameter', query: 'force=true' },
];

describe('GET /jobs with a bad query', () => {
  it.each(BAD_LIST_QUERIES)('answers 400 to $name', async ({ query }) => {
    await expectRejected(`/jobs?${query}`, {}, 400);
  });
});

describe('GET /admin/queues/{name}/dlq with bad input', () => {
  it.each(BAD_DLQ_QUERIES)('answers 400 to $name', async ({ query }) => {
    await expectRejected(`/admin/queues/jobs/dlq?${query}`, {}, 400);
  });

  it('answers 400 to a queue name that breaks the naming rule (upper case)', async () => {
    await expectRejected('/admin/queues/JOBS/dlq', {}, 400);
  });

  it('answers 400 to an encoded path traversal as the queue name', async () => {
    await expectRejected('/admin/queues/..%2F..%2Fetc/dlq', {}, 400);
  });

  it('answers 404 to an unknown queue name', async () => {
    await expectRejected('/admin/queues/nope/dlq', {}, 404);
  });
});

describe('POST /admin/queues/{name}/redrive with bad input', () => {
  it.each(BAD_REDRIVE_QUERIES)('answers 400 to $name', async ({ query }) => {
    await expectRejected(`/admin/queues/jobs/redrive?${query}`, { method: 'POST' }, 400);
  });

  it('answers 404 to an unknown queue name', async () => {
    await expectRejected('/admin/queues/nope/redrive', { method: 'POST' }, 404);
  });

  it('answers 400 to an encoded path traversal as the queue name', async () => {
    await expectRejected('/admin/queues/..%2Fjobs/redrive', { method: 'POST' }, 400);
  });

  it('answers 415 to a body that is not JSON', async () => {
    await expectRejected('/admin/queues/jobs/redrive', post('everything', { 'content-type': 'text/plain' }), 415);
  });
});

// ---------------------------------------------------------------------------------------
// Unknown routes

describe('a request for an unknown route', () => {
  it.each([
    { name: 'GET /nope', path: '/nope', init: {} },
    { name: 'GET /jobs/{id}/unknown', path: `/jobs/${randomUUID()}/unknown`, init: {} },
    { name: 'POST /nope with a JSON body', path: '/nope', init: post('{"data": "x"}') },
    { name: 'DELETE /jobs', path: '/jobs', init: { method: 'DELETE' } },
    { name: 'PUT /orders with a JSON body', path: '/orders', init: { ...post('{"amount": 1, "currency": "EUR"}'), method: 'PUT' } },
  ])('answers 404 JSON to $name', async ({ path, init }) => {
    await expectRejected(path, init, 404);
  });
});

// ---------------------------------------------------------------------------------------
// The oracle itself

describe('the "nothing stored" oracle', () => {
  it('sees an accepted job', async () => {
    const before = await settled();
    const answer = await send('/jobs', post(JSON.stringify({ task: 'echo', data: 'seen', delaySeconds: 900 })));
    expect(answer.status).toBe(202);
    const after = await stored();
    expect(after).toMatchObject({ jobsQueue: before.jobsQueue + 1, jobRecords: before.jobRecords + 1, jobRows: before.jobRows + 1 });
  });

  it('sees an accepted order even after the event source has consumed it', async () => {
    const before = await settled();
    const answer = await send('/orders', post(JSON.stringify(VALID_BODY['/orders'])));
    expect(answer.status).toBe(202);
    expect((await stored()).orderRows).toBe(before.orderRows + 1);
  });
});

// ---------------------------------------------------------------------------------------
// Body size

/** Over the limit by one byte; JSON that would otherwise be well-formed. */
const oversized = padded('{"pad":"', '"}', BODY_LIMIT + 1);
/** Exactly at the limit, and invalid (unknown field): the size is fine, the content is not. */
const atLimitInvalid = padded('{"pad":"', '"}', BODY_LIMIT);
const underLimitInvalid = padded('{"pad":"', '"}', BODY_LIMIT - 1);

describe.each(BODY_ENDPOINTS)('POST %s with a body near the 256 KiB limit', (path) => {
  // `Connection: close` gives each case its own connection: see the keep-alive case below.
  const json = { 'content-type': 'application/json', connection: 'close' };

  it('answers 413 to 256 KiB + 1 byte sent with an honest Content-Length', async () => {
    const answer = await expectRejected(path, { method: 'POST', headers: json, body: oversized }, 413);
    expect(answer.body).toMatchObject({ error: { code: 'payload_too_large' } });
  });

  it('answers 413 to 256 KiB + 1 byte sent chunked (no Content-Length)', async () => {
    const answer = await expectRejected(path, { method: 'POST', headers: json, ...chunked(oversized) }, 413);
    expect(answer.body).toMatchObject({ error: { code: 'payload_too_large' } });
  });

  it('answers 400, not 413, to an invalid body of exactly 256 KiB', async () => {
    await expectRejected(path, { method: 'POST', headers: json, body: atLimitInvalid }, 400);
  });

  it('answers 400, not 413, to an invalid body of 256 KiB - 1 byte sent chunked', async () => {
    await expectRejected(path, { method: 'POST', headers: json, ...chunked(underLimitInvalid) }, 400);
  });
});

describe('oversized bodies on a kept-alive connection', () => {
  it.each([
    { name: 'an honest Content-Length', init: (): RequestInit => ({ body: oversized }) },
    { name: 'chunked transfer encoding', init: (): RequestInit => chunked(oversized) },
  ])('answers 413 to each of several consecutive oversized bodies sent with $name', async ({ init }) => {
    // Arrange: no `Connection: close`, so fetch reuses its pooled connection, as clients do.
    const statuses: Array<number | string> = [];

    // Act
    for (let i = 0; i < 4; i++) {
      try {
        const response = await fetch(`${spool.url}/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, ...init() });
        statuses.push(response.status);
        await response.arrayBuffer();
      } catch (error) {
        statuses.push(`${String(error)}: ${String((error as { cause?: unknown }).cause)}`);
      }
    }

    // Assert
    expect(statuses).toEqual([413, 413, 413, 413]);
  });
});
