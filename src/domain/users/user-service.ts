import { randomUUID } from 'node:crypto';
import { ConflictError, NotFoundError } from '../../errors.js';
import type { Clock } from '../../ports/clock.js';
import { UniqueViolationError, type Sql, type SqlTransaction, type UsersTable } from '../../ports/sql.js';
import { afterKey, decodeCursor, toPage } from '../shared/page-cursor.js';
import { isoTimestamp, laterOf } from '../shared/timestamps.js';
import { checkVersion, type VersionPrecondition } from '../shared/version-precondition.js';
import type { CreateUserRequest, ListUsersQuery, UpdateUserRequest, User } from './user-schemas.js';

export interface UserServiceDeps {
  readonly sql: Sql;
  readonly clock: Clock;
  readonly newId?: () => string;
}

/**
 * Users of the multi-region recipe, on the SQL store. Every write is one
 * `sql.transaction` (read, check, write `version + 1`), so on DSQL or PostgreSQL a
 * concurrent change makes it retry instead of being overwritten. Email addresses are
 * unique case-insensitively through the `email_lower` unique constraint; a duplicate,
 * even one inserted at the same instant in another region, is a 409.
 */
export class UserService {
  private readonly newId: () => string;

  constructor(private readonly deps: UserServiceDeps) {
    this.newId = deps.newId ?? randomUUID;
  }

  async create(request: CreateUserRequest): Promise<User> {
    const now = isoTimestamp(this.deps.clock.now());
    const row: UsersTable = {
      id: this.newId(),
      name: request.name,
      email: request.email,
      email_lower: request.email.toLowerCase(),
      created_at: now,
      updated_at: now,
      version: 1,
    };
    await this.uniqueEmail(() => this.deps.sql.transaction((trx) => trx.insertInto('users').values(row).execute()));
    return toView(row);
  }

  async get(id: string): Promise<User> {
    const row = await this.deps.sql.read((db) => db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst());
    if (row === undefined) throw notFound(id);
    return toView(row);
  }

  /** Newest first: `created_at` descending, ties broken by `id` descending. */
  async list(query: ListUsersQuery): Promise<{ items: User[]; cursor?: string }> {
    const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
    const rows = await this.deps.sql.read((db) => {
      let select = db.selectFrom('users').selectAll();
      if (after !== undefined) select = select.where(afterKey(after, 'desc'));
      return select.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(query.limit + 1).execute();
    });
    return toPage(rows, query.limit, toView);
  }

  /** Applies the fields of `patch` that differ; a patch that changes nothing leaves the version as it is. */
  async update(id: string, patch: UpdateUserRequest, precondition?: VersionPrecondition): Promise<User> {
    return this.uniqueEmail(() =>
      this.deps.sql.transaction(async (trx) => {
        const current = await this.readForWrite(trx, id, precondition);
        const next: UsersTable = {
          ...current,
          ...(patch.name === undefined ? {} : { name: patch.name }),
          ...(patch.email === undefined ? {} : { email: patch.email, email_lower: patch.email.toLowerCase() }),
        };
        if (next.name === current.name && next.email === current.email) return toView(current);
        const updated: UsersTable = {
          ...next,
          updated_at: laterOf(isoTimestamp(this.deps.clock.now()), current.updated_at),
          version: current.version + 1,
        };
        const result = await trx
          .updateTable('users')
          .set({ name: updated.name, email: updated.email, email_lower: updated.email_lower, updated_at: updated.updated_at, version: updated.version })
          .where('id', '=', id)
          .where('version', '=', current.version)
          .executeTakeFirst();
        if (result.numUpdatedRows !== 1n) throw new ConflictError(`user ${id} changed concurrently; retry`);
        return toView(updated);
      }),
    );
  }

  async delete(id: string, precondition?: VersionPrecondition): Promise<void> {
    await this.deps.sql.transaction(async (trx) => {
      const current = await this.readForWrite(trx, id, precondition);
      await trx.deleteFrom('users').where('id', '=', id).where('version', '=', current.version).execute();
    });
  }

  private async readForWrite(trx: SqlTransaction, id: string, precondition: VersionPrecondition | undefined): Promise<UsersTable> {
    const current = await trx.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
    if (current === undefined) throw notFound(id);
    checkVersion(precondition, current.version, `user ${id}`);
    return current;
  }

  /** Runs `write`, turning the `email_lower` unique violation into a 409 that says what clashed. */
  private async uniqueEmail<T>(write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } catch (error) {
      // `email_lower` is the only unique key besides the random UUID id (some stores do not name the columns).
      if (error instanceof UniqueViolationError && !error.details.columns.includes('id')) {
        throw new ConflictError('a user with this email already exists (emails are compared case-insensitively)', { field: 'email' });
      }
      throw error;
    }
  }
}

function toView(row: UsersTable): User {
  return { id: row.id, name: row.name, email: row.email, created_at: row.created_at, updated_at: row.updated_at, version: row.version };
}

function notFound(id: string): NotFoundError {
  return new NotFoundError(`user ${id} not found`);
}
