import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../../src/adapters/sql/migrations/steps.js';
import { ConflictError } from '../../src/errors.js';
import { ConcurrencyConflictError, UniqueViolationError, type MigrationResult, type RetryInfo, type Sql, type TransactionOptions, type UsersTable } from '../../src/ports/sql.js';

/**
 * `serializationFailures`: the store raises SQLSTATE 40001 when two transactions race on
 * a row (PostgreSQL at REPEATABLE READ, DSQL). SQLite serializes writers instead, so a
 * test that needs two transactions open at once would wait forever there.
 */
export type SqlCapability = 'serializationFailures';

export interface SqlBackend {
  readonly name: string;
  readonly capabilities: ReadonlySet<SqlCapability>;
  /** A fresh, empty database (not yet migrated). */
  create(): Promise<{ sql: Sql; dispose(): Promise<void> }>;
}

/** The semantics of the Sql port; every adapter must pass it. */
export function describeSqlContract(backend: SqlBackend): void {
  const needs = (capability: SqlCapability) => (backend.capabilities.has(capability) ? it : it.skip);

  describe(`Sql contract: ${backend.name}`, () => {
    let sql: Sql;
    let dispose: () => Promise<void>;
    let firstMigration: MigrationResult;
    beforeEach(async () => {
      ({ sql, dispose } = await backend.create());
      firstMigration = await sql.migrate();
    });
    afterEach(async () => dispose());

    const insertUser = (user: UsersTable) => sql.transaction((trx) => trx.insertInto('users').values(user).execute());
    const readUser = (id: string) => sql.read((db) => db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst());
    const countUsers = () => sql.read(async (db) => (await db.selectFrom('users').select('id').execute()).length);

    it('migrates every step once; a second migrate applies nothing', async () => {
      expect(firstMigration.applied).toEqual(MIGRATIONS.map((step) => step.id));
      expect(await sql.migrate()).toEqual({ applied: [] });
      expect(await countUsers()).toBe(0);
    });

    it('writes through transaction and reads back, updating with the version', async () => {
      const user = newUser();
      await insertUser(user);
      expect(await readUser(user.id)).toEqual(user);
      const updated = await sql.transaction(async (trx) => {
        const current = await trx.selectFrom('users').selectAll().where('id', '=', user.id).executeTakeFirstOrThrow();
        const next = { ...current, name: 'Ada L.', updated_at: new Date(Date.parse(current.updated_at) + 1000).toISOString(), version: current.version + 1 };
        await trx.updateTable('users').set(next).where('id', '=', user.id).where('version', '=', current.version).execute();
        return next;
      });
      expect(updated.version).toBe(2);
      expect(await readUser(user.id)).toEqual(updated);
    });

    it('stores tasks, comments and activity with nulls and JSON text intact', async () => {
      const now = new Date().toISOString();
      const task = {
        id: randomUUID(),
        title: 'Write the contract',
        description: null,
        status: 'in_progress' as const,
        priority: 'high',
        assignee: null,
        created_by: randomUUID(),
        due_date: '2026-12-31',
        created_at: now,
        updated_at: now,
        version: 1,
      };
      const comment = { id: randomUUID(), task_id: task.id, author: 'ada', body: 'ünïcødé ✓', created_at: now, updated_at: now, version: 1 };
      const activity = { id: randomUUID(), task_id: task.id, actor: 'ada', action: 'updated', changes: JSON.stringify({ status: ['todo', 'in_progress'] }), created_at: now };
      await sql.transaction(async (trx) => {
        await trx.insertInto('tasks').values(task).execute();
        await trx.insertInto('task_comments').values(comment).execute();
        await trx.insertInto('task_activity').values(activity).execute();
      });
      const stored = await sql.read(async (db) => ({
        task: await db.selectFrom('tasks').selectAll().where('id', '=', task.id).executeTakeFirst(),
        comments: await db.selectFrom('task_comments').selectAll().where('task_id', '=', task.id).execute(),
        activity: await db.selectFrom('task_activity').selectAll().where('task_id', '=', task.id).orderBy('created_at').execute(),
      }));
      expect(stored).toEqual({ task, comments: [comment], activity: [activity] });
      expect(JSON.parse(stored.activity[0]!.changes)).toEqual({ status: ['todo', 'in_progress'] });
    });

    it('surfaces a duplicate email_lower as UniqueViolationError naming table and column, and keeps the first row', async () => {
      const first = newUser({ email: 'Ada@Example.com' });
      await insertUser(first);
      const error = await insertUser(newUser({ email: 'ada@example.COM' })).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UniqueViolationError);
      expect(error).toBeInstanceOf(ConflictError);
      expect(error).toMatchObject({ code: 'unique_violation', details: { table: 'users', columns: ['email_lower'] } });
      expect((error as Error).message).not.toContain('example');
      expect(await countUsers()).toBe(1);
      expect(await readUser(first.id)).toEqual(first);
    });

    it('surfaces a duplicate primary key as UniqueViolationError on id', async () => {
      const user = newUser();
      await insertUser(user);
      await expect(insertUser({ ...newUser(), id: user.id })).rejects.toMatchObject({ details: { table: 'users', columns: ['id'] } });
    });

    it('rolls back everything when fn throws, and rethrows that very error', async () => {
      const boom = new Error('boom');
      const user = newUser();
      await expect(
        sql.transaction(async (trx) => {
          await trx.insertInto('users').values(user).execute();
          throw boom;
        }),
      ).rejects.toBe(boom);
      expect(await readUser(user.id)).toBeUndefined();
    });

    it('refuses writes inside read', async () => {
      const user = newUser();
      await expect(sql.read((db) => db.insertInto('users').values(user).execute())).rejects.toThrow();
      expect(await countUsers()).toBe(0);
      await insertUser(user); // the connection is usable for writes afterwards
      expect(await countUsers()).toBe(1);
    });

    it('retries a transaction that hit an OCC conflict, after rolling back its first attempt', async () => {
      const user = newUser();
      const retries: RetryInfo[] = [];
      let attempts = 0;
      await sql.transaction(
        async (trx) => {
          attempts++;
          await trx.insertInto('users').values(user).execute();
          if (attempts === 1) throw Object.assign(new Error('change conflicts with another transaction, please retry: (OC000)'), { code: '40001' });
        },
        { onRetry: (retry) => retries.push(retry) },
      );
      expect(attempts).toBe(2);
      expect(retries.map((r) => r.attempt)).toEqual([1]);
      expect(await countUsers()).toBe(1);
    });

    it('gives up after maxAttempts with ConcurrencyConflictError, the last conflict as cause', async () => {
      const conflict = Object.assign(new Error('could not serialize access due to concurrent update'), { code: '40001' });
      let attempts = 0;
      const error = await sql
        .transaction(
          async (trx) => {
            attempts++;
            await trx.insertInto('users').values(newUser()).execute();
            throw conflict;
          },
          { maxAttempts: 3 },
        )
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConcurrencyConflictError);
      expect(error).toMatchObject({ code: 'concurrency_conflict', details: { attempts: 3 }, cause: conflict });
      expect(attempts).toBe(3);
      expect(await countUsers()).toBe(0);
    });

    it('loses no update: 20 concurrent read-then-write increments of one row end at exactly 20 more', async () => {
      const user = newUser();
      await insertUser(user);
      // Generous attempts: on PostgreSQL most of the 20 lose a race at least once.
      await Promise.all(Array.from({ length: 20 }, () => incrementVersion(sql, user.id, { maxAttempts: 100 })));
      expect((await readUser(user.id))?.version).toBe(user.version + 20);
    });

    needs('serializationFailures')('retries the loser of a read-then-write race on serialization failure (40001) instead of overwriting', async () => {
      const user = newUser();
      await insertUser(user);
      // Both transactions read the row before either writes: exactly the lost-update race.
      let readers = 0;
      let bothRead!: () => void;
      const barrier = new Promise<void>((resolve) => (bothRead = resolve));
      const retries: RetryInfo[] = [];
      const racer = () => {
        let attempt = 0;
        return incrementVersion(sql, user.id, { onRetry: (retry) => retries.push(retry) }, async () => {
          if (++attempt > 1) return;
          if (++readers === 2) bothRead();
          await barrier;
        });
      };
      await Promise.all([racer(), racer()]);
      expect((await readUser(user.id))?.version).toBe(user.version + 2);
      expect(retries.length).toBeGreaterThanOrEqual(1);
      expect(retries[0]!.error).toMatchObject({ code: '40001' });
    });
  });
}

/** One increment the way application code does it: read, decide, write back version + 1. */
function incrementVersion(sql: Sql, id: string, options: TransactionOptions, afterRead?: () => Promise<void>) {
  return sql.transaction(async (trx) => {
    const { version } = await trx.selectFrom('users').select('version').where('id', '=', id).executeTakeFirstOrThrow();
    await afterRead?.();
    await trx.updateTable('users').set({ version: version + 1 }).where('id', '=', id).execute();
  }, options);
}

function newUser(overrides: Partial<Pick<UsersTable, 'email' | 'name'>> = {}): UsersTable {
  const email = overrides.email ?? `user-${randomUUID()}@example.com`;
  const now = new Date().toISOString();
  return { id: randomUUID(), name: overrides.name ?? 'Ada', email, email_lower: email.toLowerCase(), created_at: now, updated_at: now, version: 1 };
}
