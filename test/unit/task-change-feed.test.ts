import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteSql } from '../../src/adapters/sql/sqlite-sql.js';
import { decodeStreamPosition, encodeStreamPosition, TaskChangeFeed, type FeedEntry, type TaskChangeFeedOptions } from '../../src/domain/tasks/task-change-feed.js';
import { TaskChangeSignal } from '../../src/domain/tasks/task-change-signal.js';
import { TaskService } from '../../src/domain/tasks/task-service.js';
import { ValidationError } from '../../src/errors.js';

const T0 = Date.parse('2026-03-01T12:00:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();

describe('TaskChangeFeed (activity history after a position, on SQLite)', () => {
  let dir: string;
  let sql: SqliteSql;
  let signal: TaskChangeSignal;
  let tasks: TaskService;
  /** The writers' clock. */
  const writerClock = { t: T0, now() {
    return this.t;
  } };
  /** The feed's clock (decides when the window is re-read). */
  const feedClock = { t: T0, now() {
    return this.t;
  } };
  const feeds: TaskChangeFeed[] = [];

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'spool-feed-'));
    sql = SqliteSql.open(join(dir, 'sql.db'));
    await sql.migrate();
    signal = new TaskChangeSignal();
    writerClock.t = T0;
    feedClock.t = T0;
    tasks = new TaskService({ sql, clock: writerClock, onChange: async (change) => signal.emit(change) });
  });
  afterEach(async () => {
    for (const feed of feeds.splice(0)) feed.close();
    await sql.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function openFeed(options: TaskChangeFeedOptions & { taskId?: string; after?: string } = {}): Promise<TaskChangeFeed> {
    const { after, ...rest } = options;
    const feed = new TaskChangeFeed(tasks, signal, { clock: feedClock, ...rest });
    feeds.push(feed);
    await feed.start(after === undefined ? undefined : decodeStreamPosition(after));
    return feed;
  }
  /** Reads until a read returns nothing new and hasMore is false (bounded). */
  async function drain(feed: TaskChangeFeed): Promise<FeedEntry[]> {
    const all: FeedEntry[] = [];
    for (let i = 0; i < 100; i++) {
      const entries = await feed.read();
      all.push(...entries);
      if (entries.length === 0 && !feed.hasMore) return all;
    }
    throw new Error('feed did not drain in 100 reads');
  }
  /** Another writer's entry, committed now with an earlier created_at (and no signal here). */
  async function commitLate(taskId: string, createdAt: string): Promise<string> {
    const id = randomUUID();
    await sql.transaction((trx) =>
      trx.insertInto('task_activity').values({ id, task_id: taskId, actor: 'other-region', action: 'updated', changes: JSON.stringify({ title: { from: 'a', to: 'b' } }), created_at: createdAt }).execute(),
    );
    return id;
  }
  const tick = (ms = 1) => {
    writerClock.t += ms;
  };

  it('starts at the newest entry (no replay) and delivers each later change once, in order, with its event type and task', async () => {
    await tasks.create({ title: 'before', status: 'todo', priority: 'medium', created_by: 'a' });
    tick(10);
    const feed = await openFeed();
    expect(await feed.read()).toEqual([]);

    const task = await tasks.create({ title: 'watched', status: 'todo', priority: 'medium', created_by: 'alice' });
    tick();
    await tasks.update(task.id, { status: 'in_progress' }, { actor: 'bob' });
    tick();
    await tasks.update(task.id, { status: 'done' }, { actor: 'bob' });
    tick();
    await tasks.addComment(task.id, { body: 'nice' }, { actor: 'carol' });
    tick();
    await tasks.delete(task.id, { actor: 'dave' });

    const entries = await feed.read();
    expect(entries.map((e) => e.eventType)).toEqual(['task.created', 'task.updated', 'task.completed', 'task.commented', 'task.deleted']);
    expect(entries.map((e) => e.activity.actor)).toEqual(['alice', 'bob', 'bob', 'carol', 'dave']);
    expect(entries.every((e) => e.activity.task_id === task.id && !e.late)).toBe(true);
    // Changes of this process carry the task as of the change.
    expect(entries.map((e) => e.task?.version)).toEqual([1, 2, 3, 3, 3]);
    expect(entries[2]!.task?.status).toBe('done');
    // Each position is the entry's own key, and they increase.
    for (const e of entries) expect(decodeStreamPosition(e.position)).toEqual({ createdAt: e.activity.created_at, id: e.activity.id });
    expect(feed.position).toBe(entries.at(-1)!.position);

    feedClock.t += 60_000; // window re-read due: still nothing twice
    expect(await drain(feed)).toEqual([]);
  });

  it('delivers an entry that commits late within the overlap window, once, at the next window re-read', async () => {
    const feed = await openFeed({ pollMs: 1_000, overlapMs: 5_000 });
    const task = await tasks.create({ title: 't', status: 'todo', priority: 'medium', created_by: 'a' });
    const [created] = await feed.read();
    expect(created?.eventType).toBe('task.created');
    const positionBefore = feed.position;

    // Another process (no signal here) commits an entry stamped 2 s before what was delivered.
    const lateId = await commitLate(task.id, iso(writerClock.t - 2_000));
    expect(await feed.read()).toEqual([]); // not yet: the window is re-read once per pollMs
    feedClock.t += 1_000;
    const late = await feed.read();
    expect(late).toHaveLength(1);
    expect(late[0]).toMatchObject({ late: true, eventType: 'task.updated', position: positionBefore, activity: { id: lateId, actor: 'other-region' } });
    expect(late[0]!.task).toBeUndefined(); // not a change of this process: no snapshot

    for (let i = 0; i < 3; i++) {
      feedClock.t += 1_000;
      expect(await feed.read()).toEqual([]);
    }
  });

  it('does not deliver an entry later than the window (the documented limit); it stays in the history', async () => {
    const feed = await openFeed({ overlapMs: 5_000 });
    const task = await tasks.create({ title: 't', status: 'todo', priority: 'medium', created_by: 'a' });
    await feed.read();
    const tooLate = await commitLate(task.id, iso(writerClock.t - 6_000));
    feedClock.t += 1_000;
    expect(await feed.read()).toEqual([]);
    const history = await tasks.listActivity(task.id, { limit: 10 });
    expect(history.items.map((a) => a.id)).toContain(tooLate);
  });

  it('a change of this process that sorts before the position (1 ms bump of another task) arrives at the next read, without waiting for the poll', async () => {
    const feed = await openFeed();
    const x = await tasks.create({ title: 'x', status: 'todo', priority: 'medium', created_by: 'a' }); // at T0
    await tasks.update(x.id, { title: 'x2' }); // same millisecond: stamped T0 + 1 ms
    expect((await feed.read()).map((e) => e.activity.created_at)).toEqual([iso(T0), iso(T0 + 1)]);

    const y = await tasks.create({ title: 'y', status: 'todo', priority: 'medium', created_by: 'a' }); // stamped T0: before the position
    const entries = await feed.read(); // feed clock unchanged: only the signal made the window re-read due
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ late: true, eventType: 'task.created', activity: { task_id: y.id, created_at: iso(T0) }, task: { id: y.id } });
    expect(await feed.read()).toEqual([]);
  });

  it('resumes from a position with exactly the entries that followed it', async () => {
    const feed = await openFeed();
    const task = await tasks.create({ title: 't0', status: 'todo', priority: 'medium', created_by: 'a' });
    for (let i = 1; i <= 4; i++) {
      tick(3);
      await tasks.update(task.id, { title: `t${i}` });
    }
    const first = await feed.read();
    expect(first).toHaveLength(5);
    feed.close();

    // Disconnected after the 2nd message; more changes happen meanwhile.
    tick(3);
    await tasks.update(task.id, { title: 't5' });
    const resumed = await openFeed({ after: first[1]!.position });
    const missed = await drain(resumed);
    expect(missed.map((e) => e.activity.id)).toEqual([...first.slice(2).map((e) => e.activity.id), expect.any(String)]);
    expect(missed.at(-1)!.activity.changes['title']?.to).toBe('t5');
    feedClock.t += 10_000;
    expect(await drain(resumed)).toEqual([]);
  });

  it('reads in bounded pages, in order, until drained', async () => {
    const feed = await openFeed({ pageSize: 10 });
    for (let i = 0; i < 25; i++) {
      tick();
      await tasks.create({ title: `t${i}`, status: 'todo', priority: 'medium', created_by: 'a' });
    }
    const sizes: number[] = [];
    const all: FeedEntry[] = [];
    for (let i = 0; i < 10; i++) {
      const page = await feed.read();
      sizes.push(page.length);
      all.push(...page);
      if (!feed.hasMore) break;
    }
    expect(sizes).toEqual([10, 10, 5]);
    expect(all.map((e) => e.activity.created_at)).toEqual([...all.map((e) => e.activity.created_at)].sort());
    expect(new Set(all.map((e) => e.activity.id)).size).toBe(25);
  });

  it('filters by task', async () => {
    const watched = await tasks.create({ title: 'w', status: 'todo', priority: 'medium', created_by: 'a' });
    const feed = await openFeed({ taskId: watched.id });
    const other = await tasks.create({ title: 'o', status: 'todo', priority: 'medium', created_by: 'a' });
    tick();
    await tasks.update(other.id, { title: 'o2' });
    await tasks.update(watched.id, { title: 'w2' });
    const entries = await feed.read();
    expect(entries.map((e) => [e.activity.task_id, e.eventType])).toEqual([[watched.id, 'task.updated']]);
  });

  it('keeps at most maxRemembered ids and still never delivers twice', async () => {
    const feed = await openFeed({ pageSize: 10, maxRemembered: 20 });
    // 60 entries in one millisecond: all within the window.
    for (let i = 0; i < 60; i++) await tasks.create({ title: `t${i}`, status: 'todo', priority: 'medium', created_by: 'a' });
    const delivered = await drain(feed);
    expect(delivered).toHaveLength(60);
    expect(new Set(delivered.map((e) => e.activity.id)).size).toBe(60);
    expect(feed.remembered).toBeLessThanOrEqual(20);
    for (let i = 0; i < 3; i++) {
      feedClock.t += 1_000;
      expect(await drain(feed)).toEqual([]);
    }
  });

  it('on start, counts the window before the position as delivered (a resume sends no duplicates)', async () => {
    const task = await tasks.create({ title: 't', status: 'todo', priority: 'medium', created_by: 'a' });
    tick(5);
    await tasks.update(task.id, { title: 't2' });
    const feed = await openFeed({ after: encodeStreamPosition({ createdAt: iso(T0 + 5), id: 'ffffffff-ffff-4fff-bfff-ffffffffffff' }) });
    feedClock.t += 1_000;
    expect(await drain(feed)).toEqual([]);
  });

  it('wait() returns at once on a signalled change, after pollMs otherwise, and on abort; close() unsubscribes', async () => {
    const feed = new TaskChangeFeed(tasks, signal, { pollMs: 150 });
    feeds.push(feed);
    expect(signal.size).toBe(1);
    await feed.start();
    await feed.read();

    let started = performance.now();
    await feed.wait(10_000);
    const idle = performance.now() - started;
    expect(idle).toBeGreaterThanOrEqual(100);
    expect(idle).toBeLessThan(2_000);

    await feed.read();
    started = performance.now();
    const waiting = feed.wait(10_000);
    await tasks.create({ title: 'wake', status: 'todo', priority: 'medium', created_by: 'a' });
    await waiting;
    expect(performance.now() - started).toBeLessThan(100);
    expect((await feed.read()).map((e) => e.eventType)).toEqual(['task.created']);

    const abort = new AbortController();
    started = performance.now();
    const aborted = feed.wait(10_000, abort.signal);
    abort.abort();
    await aborted;
    expect(performance.now() - started).toBeLessThan(100);

    feed.close();
    expect(signal.size).toBe(0);
  });

  it('positions are opaque cursors, validated on the way back in', () => {
    const key = { createdAt: '2026-03-01T12:00:00.123Z', id: randomUUID() };
    expect(decodeStreamPosition(encodeStreamPosition(key))).toEqual(key);
    for (const bad of ['', 'not-a-cursor', 'abc!', Buffer.from('["x","y"]').toString('base64url'), Buffer.from(JSON.stringify(['2026-03-01T12:00:00.123Z', 'nope'])).toString('base64url'), 'A'.repeat(600)]) {
      expect(() => decodeStreamPosition(bad), bad).toThrow(ValidationError);
    }
  });
});
