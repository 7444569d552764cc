import { ConflictError } from '../errors.js';

/**
 * Errors of the Sql port. They live with the port (not with the adapters) because the
 * core catches them; both extend {@link ConflictError}, so the HTTP edge answers 409.
 */

/**
 * A transaction kept losing optimistic-concurrency conflicts (SQLSTATE 40001, DSQL
 * `OC000`/`OC001`) until the retry helper gave up. `cause` is the last conflict;
 * `details.attempts` how many attempts were made. The caller may retry later.
 */
export class ConcurrencyConflictError extends ConflictError {
  override readonly code = 'concurrency_conflict';

  constructor(attempts: number, cause: unknown) {
    super(`transaction still conflicted with concurrent transactions after ${attempts} attempts`, { attempts });
    setCause(this, cause);
  }
}

/**
 * A write violated a unique constraint (PostgreSQL/DSQL SQLSTATE 23505, SQLite
 * `SQLITE_CONSTRAINT_UNIQUE`/`_PRIMARYKEY`). `details` names the table and columns,
 * never the values (they may be personal data such as an email address).
 */
export class UniqueViolationError extends ConflictError {
  override readonly code = 'unique_violation';
  declare readonly details: { readonly table?: string; readonly columns: readonly string[] };

  constructor(target: { table?: string; columns: readonly string[] }, cause: unknown) {
    const where = `${target.table ?? 'a table'}(${target.columns.join(', ') || '?'})`;
    super(`unique constraint violated on ${where}`, { ...target });
    setCause(this, cause);
  }
}

/** `ConflictError` takes no `cause`; set it the way `Error` itself does (non-enumerable). */
function setCause(error: Error, cause: unknown): void {
  Object.defineProperty(error, 'cause', { value: cause, writable: true, configurable: true, enumerable: false });
}
