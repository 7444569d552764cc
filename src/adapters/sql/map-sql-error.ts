import { UniqueViolationError } from '../../ports/sql-errors.js';
import { someError } from './occ.js';

const SQLITE_UNIQUE_CODES: ReadonlySet<string> = new Set(['SQLITE_CONSTRAINT_UNIQUE', 'SQLITE_CONSTRAINT_PRIMARYKEY']);

/**
 * Translates a driver error into the port's typed errors where one applies (unique
 * violations); returns anything else unchanged. Looks through `cause` chains too.
 */
export function mapSqlError(error: unknown): unknown {
  if (error instanceof UniqueViolationError) return error;
  let target: { table?: string; columns: string[] } | undefined;
  someError(error, (e) => {
    const code = e['code'];
    const message = typeof e['message'] === 'string' ? e['message'] : '';
    if (code === '23505') {
      // pg's DatabaseError: `table` is a field, columns are in `detail`: "Key (email_lower)=(...) already exists."
      const detail = typeof e['detail'] === 'string' ? e['detail'] : '';
      const columns = /^Key \(([^)]*)\)=/.exec(detail)?.[1]?.split(',').map((c) => c.trim().replace(/^"|"$/g, '')) ?? [];
      target = typeof e['table'] === 'string' ? { table: e['table'], columns } : { columns };
      return true;
    }
    if (typeof code === 'string' && SQLITE_UNIQUE_CODES.has(code)) {
      // better-sqlite3: "UNIQUE constraint failed: users.email_lower, users.other"
      const qualified = /constraint failed: (.*)$/.exec(message)?.[1]?.split(',').map((c) => c.trim()) ?? [];
      const table = qualified[0]?.split('.')[0];
      const columns = qualified.map((c) => c.split('.').pop() ?? c);
      target = table === undefined ? { columns } : { table, columns };
      return true;
    }
    return false;
  });
  return target === undefined ? error : new UniqueViolationError(target, error);
}
