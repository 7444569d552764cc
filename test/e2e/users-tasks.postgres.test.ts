/**
 * The users and tasks services on the machine's PostgreSQL at REPEATABLE READ (DSQL's
 * isolation), where concurrent writers to one row really conflict: the loser's UPDATE
 * fails with SQLSTATE 40001 and `sql.transaction` runs it again from the read. These
 * tests show that the conflicts happen (retries counted) and that no update is lost.
 * (Over HTTP the same services run on SQLite, which serializes writers instead.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TaskService } from '../../src/domain/tasks/task-service.js';
import type { User } from '../../src/domain/users/user-schemas.js';
import { UserService } from '../../src/domain/users/user-service.js';
import { ConflictError, PreconditionFailedError } from '../../src/errors.js';
import { systemClock } from '../../src/ports/clock.js';
import type { Sql } from '../../src/ports/sql.js';
import { createPostgresTestSql } from '../support/postgres.js';

describe('users and tasks services on PostgreSQL (REPEATABLE READ, real 40001 retries)', () => {
  let sql: Sql;
  let dispose: () => Promise<void>;
  let retries = 0;
  let users: UserService;
  let tasks: TaskService;

  beforeAll(async () => {
    // Generous attempts: ten writers on one row lose to each other many times over.
    ({ sql, dispose } = await createPostgresTestSql({ occ: { maxAttempts: 40, baseDelayMs: 5, maxDelayMs: 100, onRetry: () => void retries++ } }));
    await sql.migrate();
    users = new UserService({ sql, clock: systemClock });
    tasks = new TaskService({ sql, clock: systemClock });
  });
  afterAll(async () => dispose?.());

  it('applies 10 parallel PATCHes of one task without losing any: version 11, one unbroken from/to chain', async () => {
    const task = await tasks.create({ title: 'Hot', status: 'todo', priority: 'medium', created_by: 'alice' });
    const retriesBefore = retries;
    const patches = Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? { title: `title ${i}` } : { description: `description ${i}` }));

    const results = await Promise.all(patches.map((patch, i) => tasks.update(task.id, patch, { actor: `writer-${i}` })));

    expect(retries - retriesBefore, 'no transaction conflicted: the test did not exercise the retries').toBeGreaterThan(0);
    expect(results.map((t) => t.version).sort((a, b) => a - b)).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    const final = await tasks.get(task.id);
    expect(final.version).toBe(11);
    const history = (await tasks.listActivity(task.id, { limit: 100 })).items;
    expect(history.map((e) => e.action)).toEqual(['created', ...patches.map(() => 'updated')]);
    const values: Record<string, unknown> = { title: 'Hot', description: null };
    for (const entry of history.slice(1)) {
      for (const [field, change] of Object.entries(entry.changes)) {
        expect(change.from, `${field} in ${JSON.stringify(entry)}`).toEqual(values[field]);
        values[field] = change.to;
      }
    }
    expect(values).toEqual({ title: final.title, description: final.description });
  });

  it('fails a stale precondition with 412 even when it raced, and writes nothing', async () => {
    const task = await tasks.create({ title: 'Guarded', status: 'todo', priority: 'low', created_by: 'alice' });

    // Ten writers all holding version 1: exactly one may win.
    const outcomes = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) => tasks.update(task.id, { title: `guarded ${i}` }, { actor: `w${i}`, precondition: { kind: 'versions', versions: [1] } })),
    );

    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    for (const o of outcomes) if (o.status === 'rejected') expect(o.reason).toBeInstanceOf(PreconditionFailedError);
    expect((await tasks.get(task.id)).version).toBe(2);
    expect((await tasks.listActivity(task.id, { limit: 100 })).items.map((e) => e.action)).toEqual(['created', 'updated']);
  });

  it('keeps comments and edits of one task apart: comments never conflict with edits, both land', async () => {
    const task = await tasks.create({ title: 'Busy', status: 'todo', priority: 'medium', created_by: 'alice' });
    await Promise.all([
      ...Array.from({ length: 5 }, (_, i) => tasks.update(task.id, { title: `busy ${i}` }, { actor: 'editor' })),
      ...Array.from({ length: 5 }, (_, i) => tasks.addComment(task.id, { author: 'bob', body: `comment ${i}` })),
    ]);
    expect((await tasks.get(task.id)).version).toBe(6);
    expect((await tasks.listComments(task.id, { limit: 100 })).items).toHaveLength(5);
    expect((await tasks.listActivity(task.id, { limit: 100 })).items).toHaveLength(11);
  });

  it('applies 10 parallel PATCHes of one user: version 11', async () => {
    const user = await users.create({ name: 'Hot User', email: 'hot.user@example.com' });
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => users.update(user.id, { name: `Hot User ${i}` })));
    expect(results.map((u) => u.version).sort((a, b) => a - b)).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect((await users.get(user.id)).version).toBe(11);
  });

  it('lets one of several concurrent creations with the same email (in any case) win; the rest are 409', async () => {
    const outcomes = await Promise.allSettled(
      Array.from({ length: 6 }, (_, i) => users.create({ name: `Twin ${i}`, email: i % 2 === 0 ? 'twin@example.com' : 'TWIN@example.com' })),
    );
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    for (const o of outcomes) if (o.status === 'rejected') expect(o.reason).toBeInstanceOf(ConflictError);
  });

  it('pages users newest first with the same cursor semantics as SQLite', async () => {
    const made: User[] = [];
    for (let i = 0; i < 5; i++) made.push(await users.create({ name: `Pager ${i}`, email: `pg.pager${i}@example.com` }));
    const seen: User[] = [];
    let cursor: string | undefined;
    do {
      const page = await users.list({ limit: 2, ...(cursor === undefined ? {} : { cursor }) });
      seen.push(...page.items);
      cursor = page.cursor;
    } while (cursor !== undefined);
    expect(new Set(seen.map((u) => u.id)).size).toBe(seen.length);
    // Newest first; users created within one millisecond come in descending id order.
    const newestFirst = (a: User, b: User) => (a.created_at !== b.created_at ? (a.created_at < b.created_at ? 1 : -1) : a.id < b.id ? 1 : -1);
    expect(seen).toEqual([...seen].sort(newestFirst));
    expect(seen.slice(0, 5)).toEqual([...made].sort(newestFirst));
  });
});
