/**
 * Property-based fuzzing of every POST endpoint, in process (`system.app.request`): at
 * least 1,000 generated requests each (arbitrary JSON, near-valid bodies mixing valid and
 * invalid fields, raw non-JSON text, random content types and Idempotency-Keys).
 *
 * Properties: never a 5xx; every non-2xx is a 4xx with `{"error": {"code", "message"}}`;
 * every 2xx has the documented success shape; and the queues hold exactly one new message
 * per 202 (nothing is stored for a rejected request). Acceptance is also checked against
 * the documented contract, written here independently of the zod schemas: on every 2xx
 * for jobs, and as "accepted if and only if valid" for orders.
 *
 * Why counting is exact: the Spool here is wired with `createSystem` but WITHOUT the local
 * event sources that `startTestSpool` starts. Nothing consumes the queues, so every accepted
 * request leaves exactly one message (visible, or delayed when it set `delaySeconds`) and
 * one `queued` job record, and a rejected one leaves none. With event sources running,
 * messages would be deleted while we count, and orders (which have no status index) could
 * not be counted at all.
 *
 * fast-check prints the seed, the path and the shrunk counterexample of a failure; rerun
 * one with `fc.assert(property, { seed, path, endOnFailure: true })`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { MAX_DELAY_SECONDS } from '../../src/ports/queue.js';
import { createEmbeddedPorts } from '../../src/runtime/embedded-ports.js';
import { createLogger } from '../../src/runtime/logger.js';
import { createSystem, type System } from '../../src/runtime/system.js';
import { amounts, currencies, idempotencyKeys, orderBody, requests, withExtras, type FuzzRequest } from '../support/request-arbitraries.js';
import { meetsOrderContract, meetsSubmitContract } from '../support/request-contracts.js';

const RUNS = 1000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

/** A Spool whose queues nobody consumes (see the file comment). */
interface IdleSpool {
  readonly system: System;
  dispose(): Promise<void>;
}

function startIdleSpool(): IdleSpool {
  const dataDir = mkdtempSync(join(tmpdir(), 'spool-fuzz-'));
  const config = loadConfig({ SPOOL_DATA_DIR: dataDir, LOG_LEVEL: 'silent' });
  const logger = createLogger(config);
  const system = createSystem(config, createEmbeddedPorts(config, logger), logger);
  return {
    system,
    async dispose() {
      await system.ports.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

let spool: IdleSpool;

beforeAll(() => {
  spool = startIdleSpool();
});

afterAll(async () => {
  await spool?.dispose();
});

// ---------------------------------------------------------------------------------------
// Requests

interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
}

async function send(request: FuzzRequest): Promise<Answer> {
  const headers = new Headers();
  if (request.contentType !== undefined) headers.set('content-type', request.contentType);
  if (request.idempotencyKey !== undefined) headers.set('idempotency-key', request.idempotencyKey);
  // The Node server always passes the body's length on; an in-process Request has none.
  if (request.body !== undefined) headers.set('content-length', String(Buffer.byteLength(request.body)));
  const response = await spool.system.app.request(request.path, { method: 'POST', headers, body: request.body });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Never a 5xx, and a non-2xx is a 4xx with the JSON error body. True when the request was answered 2xx. */
function expectNo5xxAndErrorShape(request: FuzzRequest, answer: Answer): boolean {
  expect(answer.status, `${answer.status} ${answer.text}`).toBeLessThan(500);
  if (answer.status >= 200 && answer.status < 300) return true;
  expect(answer.status, answer.text).toBeGreaterThanOrEqual(400);
  expect(answer.headers.get('content-type') ?? '').toMatch(/^application\/json/);
  expect(parseJson(answer.text), `error body for ${request.path}`).toMatchObject({
    error: { code: expect.any(String), message: expect.any(String) },
  });
  return false;
}

async function waitingMessages(queue: 'jobsQueue' | 'ordersQueue' | 'callbacksQueue'): Promise<number> {
  const stats = await spool.system.ports[queue].stats();
  return stats.visible + stats.delayed + stats.inFlight;
}

async function queuedJobRecords(): Promise<number> {
  let total = 0;
  let cursor: string | undefined;
  do {
    const page = await spool.system.ports.jobsTable.query({ index: 'gsi1', partition: 'STATUS#queued', limit: 1000, ...(cursor === undefined ? {} : { cursor }) });
    total += page.items.length;
    cursor = page.cursor;
  } while (cursor !== undefined);
  return total;
}

// ---------------------------------------------------------------------------------------
// Generators shared by every endpoint

// ---------------------------------------------------------------------------------------
// Jobs: POST /submit and POST /jobs

/** Mostly valid values, sometimes invalid ones: near-valid bodies are the interesting ones. */
const submitBody = withExtras(
  fc.record(
    {
      task: fc.oneof(
        { weight: 6, arbitrary: fc.constantFrom('process_data', 'echo', 'sleep', 'fail') },
        { weight: 1, arbitrary: fc.constantFrom('', 'nope', 'ECHO', 'echo ', '__proto__', 'constructor', 'x'.repeat(65)) },
        { weight: 1, arbitrary: fc.oneof(fc.string(), fc.integer(), fc.constant(null), fc.boolean()) },
      ),
      // Present in most bodies (an undefined value is left out by JSON.stringify).
      data: fc.oneof(
        { weight: 1, arbitrary: fc.constant(undefined) },
        { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
        { weight: 2, arbitrary: fc.record({ ms: fc.oneof(fc.integer({ min: -10, max: 40_000 }), fc.double(), fc.string({ maxLength: 5 })) }, { requiredKeys: [] }) },
        { weight: 2, arbitrary: withExtras(fc.record({ message: fc.oneof(fc.string({ maxLength: 1100 }), fc.integer(), fc.constant('')) }, { requiredKeys: [] })) },
        { weight: 1, arbitrary: fc.record({ input: fc.oneof(fc.string(), fc.integer()) }) },
      ),
      delaySeconds: fc.oneof(
        { weight: 4, arbitrary: fc.integer({ min: 0, max: MAX_DELAY_SECONDS }) },
        { weight: 1, arbitrary: fc.oneof(fc.integer({ min: -5, max: 2000 }), fc.double(), fc.string({ maxLength: 4 }), fc.constant(null)) },
      ),
      callbackUrl: fc.oneof(
        { weight: 4, arbitrary: fc.webUrl() },
        { weight: 1, arbitrary: fc.constantFrom('ftp://example.com/hook', 'not a url', 'javascript:alert(1)', '', 'http://', `https://example.com/${'a'.repeat(2048)}`) },
        { weight: 1, arbitrary: fc.oneof(fc.string(), fc.integer()) },
      ),
    },
    { requiredKeys: ['data'] },
  ),
);

function expectSubmitSuccess(request: FuzzRequest, answer: Answer): void {
  expect([200, 202]).toContain(answer.status);
  const body = parseJson(answer.text);
  // Nothing consumes the queue, so every job, new or replayed, is still queued.
  expect(body).toEqual({ jobId: expect.stringMatching(UUID), status: 'queued', createdAt: expect.stringMatching(ISO_INSTANT) });
  expect(answer.headers.get('location')).toBe(`/status/${(body as { jobId: string }).jobId}`);
  expect(meetsSubmitContract(request), `accepted a body outside the contract: ${request.body}`).toBe(true);
}

describe.each(['/submit', '/jobs'] as const)('POST %s, fuzzed', (path) => {
  it(`never answers 5xx, answers errors as JSON and stores exactly the accepted jobs (${RUNS} requests)`, async () => {
    // Arrange
    const messagesBefore = await waitingMessages('jobsQueue');
    const recordsBefore = await queuedJobRecords();
    let created = 0;

    // Act + Assert, per request
    await fc.assert(
      fc.asyncProperty(requests(fc.constant(path), submitBody, idempotencyKeys('fuzz')), async (request) => {
        const answer = await send(request);
        if (!expectNo5xxAndErrorShape(request, answer)) return;
        expectSubmitSuccess(request, answer);
        if (answer.status === 202) created += 1;
      }),
      { numRuns: RUNS },
    );

    // Assert: one message and one queued record per 202, none for anything else.
    expect(await waitingMessages('jobsQueue')).toBe(messagesBefore + created);
    expect(await queuedJobRecords()).toBe(recordsBefore + created);
    expect(created, 'the generators should produce some valid submissions').toBeGreaterThan(RUNS / 40);
  });

  it('answers 4xx, never 5xx, to job data nested arbitrarily deep (well under the body limit)', async () => {
    // ~2 to 5 bytes per level: 20,000 levels is at most 100 KB, below 256 KiB. The body is
    // built inside the property so a failure prints {task, depth, open}, not the body.
    const nesting = fc.record({ task: fc.constantFrom('process_data', 'echo'), depth: fc.integer({ min: 1, max: 20_000 }), open: fc.constantFrom('[', '{"a":') });
    const messagesBefore = await waitingMessages('jobsQueue');
    let created = 0;

    await fc.assert(
      fc.asyncProperty(nesting, async ({ task, depth, open }) => {
        const [innermost, close] = open === '[' ? ['', ']'] : ['0', '}'];
        const body = `{"task":"${task}","data":${open.repeat(depth)}${innermost}${close.repeat(depth)}}`;
        const request: FuzzRequest = { path, body, contentType: 'application/json', idempotencyKey: undefined };
        const answer = await send(request);
        if (!expectNo5xxAndErrorShape({ ...request, body: `<${depth} levels of ${open}>` }, answer)) return;
        expectSubmitSuccess(request, answer);
        if (answer.status === 202) created += 1;
      }),
      { numRuns: 100 },
    );

    expect(await waitingMessages('jobsQueue')).toBe(messagesBefore + created);
  });
});

// ---------------------------------------------------------------------------------------
// Orders: POST /orders

function expectOrderSuccess(request: FuzzRequest, answer: Answer): void {
  expect(answer.status).toBe(202);
  const body = parseJson(answer.text);
  expect(body).toEqual({ orderId: expect.stringMatching(UUID) });
  expect(answer.headers.get('location')).toBe(`/orders/${(body as { orderId: string }).orderId}`);
}

describe('POST /orders, fuzzed', () => {
  it(`never answers 5xx, answers errors as JSON and queues exactly the accepted orders (${RUNS} requests)`, async () => {
    // Arrange
    const messagesBefore = await waitingMessages('ordersQueue');
    let created = 0;

    // Act + Assert, per request
    await fc.assert(
      fc.asyncProperty(requests(fc.constant('/orders'), orderBody), async (request) => {
        const answer = await send(request);
        if (!expectNo5xxAndErrorShape(request, answer)) return;
        expectOrderSuccess(request, answer);
        created += 1;
      }),
      { numRuns: RUNS },
    );

    // Assert
    expect(await waitingMessages('ordersQueue')).toBe(messagesBefore + created);
    expect(created, 'the generators should produce some valid orders').toBeGreaterThan(RUNS / 40);
  });

  it(`accepts an order if and only if its amount has at most 2 decimals and its currency is ISO 4217 (${RUNS} requests)`, async () => {
    const amountsNearTheRules = fc.oneof(
      amounts,
      fc.double({ min: 1e-12, max: 1e-2, noNaN: true }),
      fc.integer({ min: 1, max: 100_000_000_000 }).map((cents) => cents / 100 + 1e-9),
    );
    const order = fc.record({ amount: amountsNearTheRules, currency: currencies });
    const messagesBefore = await waitingMessages('ordersQueue');
    let created = 0;

    await fc.assert(
      fc.asyncProperty(order, async (body) => {
        const request: FuzzRequest = { path: '/orders', body: JSON.stringify(body), contentType: 'application/json', idempotencyKey: undefined };
        const answer = await send(request);
        const accepted = expectNo5xxAndErrorShape(request, answer);
        expect({ body, accepted }).toEqual({ body, accepted: meetsOrderContract(request) });
        if (accepted) created += 1;
      }),
      { numRuns: RUNS },
    );

    expect(await waitingMessages('ordersQueue')).toBe(messagesBefore + created);
  });

  it(`accepts every order for a whole number of cents up to 1e9 in an ISO 4217 currency (${RUNS} requests)`, async () => {
    const validOrder = fc.record({
      amount: fc.integer({ min: 1, max: 100_000_000_000 }).map((cents) => cents / 100),
      currency: fc.constantFrom(...Intl.supportedValuesOf('currency')),
    });
    const messagesBefore = await waitingMessages('ordersQueue');
    let created = 0;

    await fc.assert(
      fc.asyncProperty(validOrder, async (body) => {
        const answer = await send({ path: '/orders', body: JSON.stringify(body), contentType: 'application/json', idempotencyKey: undefined });
        expect({ body, status: answer.status }, answer.text).toEqual({ body, status: 202 });
        created += 1;
      }),
      { numRuns: RUNS },
    );

    expect(await waitingMessages('ordersQueue')).toBe(messagesBefore + created);
  });
});

// ---------------------------------------------------------------------------------------
// Operations: POST /admin/queues/{name}/redrive

const queueNames = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom('jobs', 'orders', 'callbacks') },
  { weight: 1, arbitrary: fc.constantFrom('nope', 'JOBS', 'jobs-dlq', '..', '.', '', '..%2Fjobs') },
  { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
);

const redriveQueries = fc.oneof(
  { weight: 3, arbitrary: fc.constant('') },
  { weight: 1, arbitrary: fc.constantFrom('?limit=1', '?limit=10000', '?limit=0', '?limit=10001', '?limit=abc', '?limit=', '?force=true', '?limit=1&limit=2') },
  { weight: 1, arbitrary: fc.string({ maxLength: 10 }).map((s) => `?limit=${encodeURIComponent(s)}`) },
);

const redrivePaths = fc.tuple(queueNames, redriveQueries).map(([name, query]) => `/admin/queues/${encodeURIComponent(name)}/redrive${query}`);

describe('POST /admin/queues/{name}/redrive, fuzzed', () => {
  it(`never answers 5xx, answers errors as JSON and, with empty dead-letter queues, moves nothing (${RUNS} requests)`, async () => {
    // Arrange
    const queues = ['jobsQueue', 'ordersQueue', 'callbacksQueue'] as const;
    const before = await Promise.all(queues.map(waitingMessages));

    // Act + Assert, per request
    await fc.assert(
      fc.asyncProperty(requests(redrivePaths, fc.jsonValue()), async (request) => {
        const answer = await send(request);
        if (!expectNo5xxAndErrorShape(request, answer)) return;
        expect(answer.status).toBe(200);
        expect(parseJson(answer.text)).toEqual({ moved: 0 });
      }),
      { numRuns: RUNS },
    );

    // Assert
    expect(await Promise.all(queues.map(waitingMessages))).toEqual(before);
  });
});
