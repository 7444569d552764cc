import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OpenAPIHono } from '@hono/zod-openapi';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SqliteSql } from '../../src/adapters/sql/sqlite-sql.js';
import { decodeStreamPosition } from '../../src/domain/tasks/task-change-feed.js';
import { TaskChangeSignal } from '../../src/domain/tasks/task-change-signal.js';
import { TaskService } from '../../src/domain/tasks/task-service.js';
import { errorResponse } from '../../src/http/error-handler.js';
import { registerTaskStreamRoute, type TaskStreamOptions } from '../../src/http/routes/task-stream.js';
import { validationHook } from '../../src/http/validation-hook.js';
import { systemClock } from '../../src/ports/clock.js';
import { eventually, getJson, postJson, requestJson, startTestSpool, type TestSpool } from '../support/local-spool.js';

/** One block of the stream: a message, an id/retry-only block, or a comment. */
interface SseBlock {
  readonly id?: string;
  readonly event?: string;
  readonly data?: string;
  readonly retry?: number;
  readonly comments: readonly string[];
  /** performance.now() when the block was complete on the client. */
  readonly receivedAt: number;
}

interface StreamData {
  eventType: string;
  taskId: string;
  actor: string;
  changes: Record<string, { from: unknown; to: unknown }>;
  activityId: string;
  at: string;
  task?: { id: string; version: number; status: string };
}

/** A minimal SSE client over fetch (what a non-browser client does): parses blocks as they arrive, timestamped. */
class SseClient {
  private readonly abort = new AbortController();
  private readonly blocks: SseBlock[] = [];
  private waiter: (() => void) | undefined;
  private ended = false;
  private pumping: Promise<void> | undefined;

  private constructor(readonly response: Response) {}

  static async connect(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
    const abort = new AbortController();
    const response = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: abort.signal });
    const client = new SseClient(response);
    Object.assign(client, { abort });
    if (response.ok && response.body !== null) client.pumping = client.pump(response.body);
    return client;
  }

  /** The next block of any kind, within `ms`. */
  async nextBlock(ms = 5_000): Promise<SseBlock> {
    const until = Date.now() + ms;
    for (let i = 0; i < 10_000; i++) {
      const block = this.blocks.shift();
      if (block !== undefined) return block;
      if (this.ended) throw new Error('stream ended');
      const left = until - Date.now();
      if (left <= 0) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    throw new Error(`no SSE block within ${ms} ms`);
  }

  /** The next message with an event (skipping id-only blocks and comments). */
  async nextEvent(ms = 5_000): Promise<SseBlock & { event: string; data: string; id: string }> {
    const until = Date.now() + ms;
    for (let i = 0; i < 1_000; i++) {
      const block = await this.nextBlock(Math.max(1, until - Date.now()));
      if (block.event !== undefined && block.data !== undefined && block.id !== undefined) return block as SseBlock & { event: string; data: string; id: string };
    }
    throw new Error('no event');
  }

  async close(): Promise<void> {
    this.abort.abort();
    await this.pumping?.catch(() => undefined);
  }

  private async pump(body: ReadableStream<Uint8Array>): Promise<void> {
    const reader = body.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          this.blocks.push(parseBlock(buffer.slice(0, end)));
          buffer = buffer.slice(end + 2);
        }
        this.waiter?.();
      }
    } catch {
      // aborted
    } finally {
      this.ended = true;
      this.waiter?.();
    }
  }
}

function parseBlock(text: string): SseBlock {
  const block: { id?: string; event?: string; data?: string; retry?: number; comments: string[]; receivedAt: number } = { comments: [], receivedAt: performance.now() };
  for (const line of text.split('\n')) {
    if (line.startsWith(':')) {
      block.comments.push(line.slice(1).trim());
      continue;
    }
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'id') block.id = value;
    else if (field === 'event') block.event = value;
    else if (field === 'data') block.data = block.data === undefined ? value : `${block.data}\n${value}`;
    else if (field === 'retry') block.retry = Number(value);
  }
  return block;
}

const dataOf = (block: { data: string }) => JSON.parse(block.data) as StreamData;

describe('GET /tasks/stream over HTTP (Server-Sent Events of task changes)', () => {
  let spool: TestSpool;
  const clients: SseClient[] = [];
  beforeAll(async () => {
    spool = await startTestSpool();
  });
  afterEach(async () => {
    for (const client of clients.splice(0)) await client.close();
    // Every disconnect releases its subscription.
    expect(await eventually(async () => spool.system.taskChanges.size, (n) => n === 0, 5_000)).toBe(0);
  });
  afterAll(async () => spool.dispose());

  const url = (path: string) => `${spool.url}${path}`;
  const open = async (query = '', headers: Record<string, string> = {}) => {
    const client = await SseClient.connect(url(`/tasks/stream${query}`), headers);
    clients.push(client);
    return client;
  };
  /** Opens a stream and reads its first block (retry + starting position). */
  const openReady = async (query = '', headers: Record<string, string> = {}) => {
    const client = await open(query, headers);
    expect(client.response.status).toBe(200);
    const first = await client.nextBlock();
    expect(first.event).toBeUndefined();
    expect(first.id).toEqual(expect.any(String));
    return { client, start: first };
  };
  const streams = () => spool.system.taskChanges.size;
  const createTask = async (title = 'Streamed', headers: Record<string, string> = {}) => {
    const created = await postJson(url('/tasks'), { title, created_by: 'alice@example.com' }, headers);
    expect(created.status).toBe(201);
    return created.body as unknown as { id: string; version: number };
  };
  const patch = async (id: string, body: unknown, headers: Record<string, string> = {}) => {
    const result = await requestJson('PATCH', url(`/tasks/${id}`), body, headers);
    expect(result.status).toBe(200);
  };

  it('streams create, update, complete, comment and delete in order, each with its event type and data, and measures how soon they arrive', async () => {
    const { client, start } = await openReady();
    expect(client.response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(client.response.headers.get('cache-control')).toBe('no-cache');
    expect(start.retry).toBeGreaterThan(0);
    expect(() => decodeStreamPosition(start.id!)).not.toThrow();

    const latencies: number[] = [];
    /** Runs a change over HTTP and returns the event it produced, timing send → event on the client. */
    const expectEvent = async (change: () => Promise<unknown>, eventType: string) => {
      const sent = performance.now();
      await change();
      const block = await client.nextEvent();
      latencies.push(block.receivedAt - sent);
      expect(block.event).toBe(eventType);
      const data = dataOf(block);
      expect(data.eventType).toBe(eventType);
      return { block, data };
    };

    const created = await expectEvent(() => createTask('Streamed', { 'x-actor': 'alice@example.com' }), 'task.created');
    const taskId = created.data.taskId;
    expect(created.data).toMatchObject({ actor: 'alice@example.com', changes: { title: { from: null, to: 'Streamed' } }, task: { id: taskId, version: 1 } });
    expect(created.data.activityId).toMatch(/^[0-9a-f-]{36}$/);
    expect(decodeStreamPosition(created.block.id)).toEqual({ createdAt: created.data.at, id: created.data.activityId });

    const updated = await expectEvent(() => patch(taskId, { status: 'in_progress' }, { 'x-actor': 'bob@example.com' }), 'task.updated');
    expect(updated.data).toMatchObject({ taskId, actor: 'bob@example.com', changes: { status: { from: 'todo', to: 'in_progress' } }, task: { version: 2 } });

    const completed = await expectEvent(() => patch(taskId, { status: 'done' }), 'task.completed');
    expect(completed.data).toMatchObject({ taskId, actor: 'anonymous', changes: { status: { from: 'in_progress', to: 'done' } }, task: { version: 3, status: 'done' } });

    const commented = await expectEvent(async () => {
      const comment = await postJson(url(`/tasks/${taskId}/comments`), { body: 'Looks good', author: 'carol@example.com' });
      expect(comment.status).toBe(201);
    }, 'task.commented');
    expect(commented.data).toMatchObject({ taskId, actor: 'carol@example.com', changes: { comment_id: { from: null, to: expect.any(String) } } });

    const deleted = await expectEvent(async () => expect((await requestJson('DELETE', url(`/tasks/${taskId}`))).status).toBe(204), 'task.deleted');
    expect(deleted.data).toMatchObject({ taskId, changes: { title: { from: 'Streamed', to: null } } });

    // Ids increase in stream order and match the activity history.
    const history = await getJson(url(`/tasks/${taskId}/activity?limit=10`));
    expect((history.body['items'] as { id: string }[]).map((a) => a.id)).toEqual([created, updated, completed, commented, deleted].map((e) => e.data.activityId));

    // Locally a change reaches a connected client in well under 100 ms (benchmarks make that claim);
    // asserted generously here so a loaded CI machine does not flake.
    const sorted = [...latencies].sort((a, b) => a - b);
    console.log(`task stream latency, HTTP request sent -> SSE event received (ms): ${latencies.map((l) => l.toFixed(1)).join(', ')}; median ${sorted[2]!.toFixed(1)}, max ${sorted[4]!.toFixed(1)}`);
    for (const latency of latencies) expect(latency).toBeLessThan(1_000);
  });

  it('measures latency over 30 changes (printed: median and p95)', async () => {
    const { client } = await openReady();
    const task = await createTask('Latency');
    await client.nextEvent();
    const latencies: number[] = [];
    for (let i = 0; i < 30; i++) {
      const sent = performance.now();
      await patch(task.id, { title: `Latency ${i}` });
      const block = await client.nextEvent();
      expect(dataOf(block).changes['title']?.to).toBe(`Latency ${i}`);
      latencies.push(block.receivedAt - sent);
    }
    const sorted = [...latencies].sort((a, b) => a - b);
    console.log(`task stream latency over 30 PATCHes (ms): median ${sorted[15]!.toFixed(1)}, p95 ${sorted[28]!.toFixed(1)}, max ${sorted[29]!.toFixed(1)}`);
    expect(sorted[15]).toBeLessThan(1_000);
  });

  it('resumes with Last-Event-ID after a disconnect: exactly the missed changes, no duplicates; the disconnect releases the subscription', async () => {
    const before = streams();
    const { client } = await openReady();
    expect(streams()).toBe(before + 1);
    const task = await createTask('Resume');
    const first = await client.nextEvent();
    expect(first.event).toBe('task.created');
    await client.close();
    clients.splice(clients.indexOf(client), 1);
    expect(await eventually(async () => streams(), (n) => n === before, 5_000)).toBe(before);

    // Missed while disconnected.
    await patch(task.id, { title: 'Resume 1' });
    await patch(task.id, { priority: 'high' });
    const comment = await postJson(url(`/tasks/${task.id}/comments`), { body: 'while you were away', author: 'bob' });
    expect(comment.status).toBe(201);

    const resumed = await open('', { 'last-event-id': first.id });
    expect(resumed.response.status).toBe(200);
    const missed = [await resumed.nextEvent(), await resumed.nextEvent(), await resumed.nextEvent()].map((block) => ({ event: block.event, data: dataOf(block) }));
    expect(missed.map((m) => m.event)).toEqual(['task.updated', 'task.updated', 'task.commented']);
    expect(missed.map((m) => Object.keys(m.data.changes))).toEqual([['title'], ['priority'], ['comment_id']]);

    // The next message is the next change: nothing was repeated in between.
    await patch(task.id, { title: 'Resume 2' });
    const next = await resumed.nextEvent();
    expect(dataOf(next).changes['title']?.to).toBe('Resume 2');

    const history = await getJson(url(`/tasks/${task.id}/activity?limit=10`));
    expect((history.body['items'] as { id: string }[]).map((a) => a.id)).toEqual([dataOf(first).activityId, ...missed.map((m) => m.data.activityId), dataOf(next).activityId]);
  });

  it('resumes from ?after= (for clients without Last-Event-ID); the header wins over it', async () => {
    const { client } = await openReady();
    const task = await createTask('After');
    const created = await client.nextEvent();
    await patch(task.id, { title: 'After 1' });
    const updated = await client.nextEvent();

    const byQuery = await open(`?after=${encodeURIComponent(created.id)}`);
    expect(dataOf(await byQuery.nextEvent()).activityId).toBe(dataOf(updated).activityId);

    await patch(task.id, { title: 'After 2' });
    const both = await open(`?after=${encodeURIComponent(created.id)}`, { 'last-event-id': updated.id });
    expect(dataOf(await both.nextEvent()).changes['title']?.to).toBe('After 2');
  });

  it('starts from now without a position: no replay of earlier changes', async () => {
    await createTask('Earlier');
    const { client } = await openReady();
    const later = await createTask('Later');
    const block = await client.nextEvent();
    expect(dataOf(block).taskId).toBe(later.id);
  });

  it('filters by ?taskId=', async () => {
    const watched = await createTask('Watched');
    const other = await createTask('Other');
    const { client } = await openReady(`?taskId=${watched.id}`);
    await patch(other.id, { title: 'Other 1' });
    await patch(watched.id, { title: 'Watched 1' });
    const block = await client.nextEvent();
    expect(dataOf(block)).toMatchObject({ taskId: watched.id, changes: { title: { to: 'Watched 1' } } });
  });

  it.each([
    ['a malformed Last-Event-ID', '', { 'last-event-id': 'not-a-position' }],
    ['a Last-Event-ID that decodes to something else', '', { 'last-event-id': Buffer.from('["yesterday","x"]').toString('base64url') }],
    ['a malformed ?after=', '?after=%%%', {}],
    ['a ?taskId= that is not a uuid', '?taskId=42', {}],
    ['an unknown query parameter', '?since=now', {}],
  ])('answers 400 (JSON, validation_failed) before the stream starts for %s', async (_name, query, headers) => {
    const before = streams();
    const response = await fetch(url(`/tasks/stream${query}`), { headers });
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await response.json()).toMatchObject({ error: { code: 'validation_failed' } });
    expect(streams()).toBe(before);
  });

  it('is in the OpenAPI document as text/event-stream, and /tasks/{id} still serves tasks', async () => {
    const doc = await getJson(url('/openapi.json'));
    const paths = doc.body['paths'] as Record<string, Record<string, { responses: Record<string, { content?: Record<string, unknown> }> }>>;
    expect(Object.keys(paths['/tasks/stream']?.['get']?.responses['200']?.content ?? {})).toEqual(['text/event-stream']);
    const task = await createTask('Still here');
    expect((await getJson(url(`/tasks/${task.id}`))).status).toBe(200);
  });
});

describe('stopping the server while a stream is open', () => {
  it('closes the stream after a short grace instead of waiting for the client to leave', async () => {
    // Arrange: a connected client that never disconnects by itself.
    const spool = await startTestSpool();
    const client = await SseClient.connect(`${spool.url}/tasks/stream`);
    try {
      expect(client.response.status).toBe(200);
      await client.nextBlock();
      // Act
      const started = performance.now();
      await spool.dispose();
      // Assert: the 2 s grace, not the 30 s shutdown timeout or for ever; the client sees the end.
      expect(performance.now() - started).toBeLessThan(10_000);
      await expect(client.nextBlock(5_000)).rejects.toThrow(/stream ended/);
    } finally {
      await client.close();
    }
  }, 20_000);
});

describe('GET /tasks/stream in process (bounds, heartbeat, no store)', () => {
  let dir: string;
  let sql: SqliteSql;
  let signal: TaskChangeSignal;
  let tasks: TaskService;
  const bodies: ReadableStreamDefaultReader<Uint8Array>[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'spool-stream-'));
    sql = SqliteSql.open(join(dir, 'sql.db'));
    await sql.migrate();
    signal = new TaskChangeSignal();
    tasks = new TaskService({ sql, clock: systemClock, onChange: async (change) => signal.emit(change) });
  });
  afterEach(async () => {
    for (const reader of bodies.splice(0)) await reader.cancel().catch(() => undefined);
    await eventually(async () => signal.size, (n) => n === 0, 2_000);
  });
  afterAll(async () => {
    await sql.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const logger = pino({ level: 'silent' });
  const appWith = (options: TaskStreamOptions, store: { tasks: TaskService | undefined } = { tasks }) => {
    const app = new OpenAPIHono({ defaultHook: validationHook });
    app.onError((error, c) => errorResponse(error, c, logger));
    registerTaskStreamRoute(app, { tasks: store.tasks, changes: signal, logger }, options);
    return app;
  };
  const openStream = async (app: OpenAPIHono) => {
    const response = await app.request('/tasks/stream');
    if (response.body !== null && response.status === 200) bodies.push(response.body.getReader());
    return response;
  };
  const readText = async (reader: ReadableStreamDefaultReader<Uint8Array>, until: (text: string) => boolean, ms: number) => {
    const decoder = new TextDecoder();
    let text = '';
    const deadline = Date.now() + ms;
    while (!until(text) && Date.now() < deadline) {
      const chunk = await Promise.race([reader.read(), new Promise<undefined>((r) => setTimeout(() => r(undefined), Math.max(1, deadline - Date.now())))]);
      if (chunk === undefined || chunk.done) break;
      text += decoder.decode(chunk.value, { stream: true });
    }
    return text;
  };

  it('bounds the open streams (503 too_many_streams beyond) and frees a slot when a client disconnects', async () => {
    const app = appWith({ maxStreams: 2 });
    expect((await openStream(app)).status).toBe(200);
    expect((await openStream(app)).status).toBe(200);
    expect(signal.size).toBe(2);
    const refused = await openStream(app);
    expect(refused.status).toBe(503);
    expect(await refused.json()).toMatchObject({ error: { code: 'too_many_streams' } });

    await bodies.shift()!.cancel();
    expect(await eventually(async () => signal.size, (n) => n === 1, 2_000)).toBe(1);
    expect((await openStream(app)).status).toBe(200);
  });

  it('sends a keep-alive comment when idle, and the retry hint first', async () => {
    const app = appWith({ heartbeatMs: 100, retryMs: 1_500 });
    const response = await openStream(app);
    const text = await readText(bodies[0]!, (t) => t.includes(': keep-alive'), 3_000);
    expect(text.startsWith('retry: 1500\nid: ')).toBe(true);
    expect(text).toContain('\n\n: keep-alive\n\n');
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
  });

  it('answers 503 sql_not_configured without a SQL store', async () => {
    const response = await appWith({}, { tasks: undefined }).request('/tasks/stream');
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({ error: { code: 'sql_not_configured' } });
  });
});
