import { sql } from 'kysely';
import type { MigrationResult, SqlDialect, SqlTransaction } from '../../../ports/sql.js';
import { assertDsqlCompatible } from '../dsql-compat.js';
import { MIGRATIONS, MIGRATIONS_TABLE_DDL, type MigrationStep } from './steps.js';

type MigrationsTables = {
  spool_migrations: { id: string; applied_at: string };
};

/** How the migrator reaches the database: the adapter's own (retrying) transactions. */
export interface MigrationTarget {
  readonly dialect: SqlDialect;
  transaction<T>(fn: (trx: SqlTransaction) => Promise<T>): Promise<T>;
  read<T>(fn: (db: SqlTransaction) => Promise<T>): Promise<T>;
}

/**
 * Applies the steps not yet recorded in `spool_migrations`, in order, the DSQL way on
 * every dialect (so the PostgreSQL and SQLite tests exercise the same protocol):
 * each DDL statement in a transaction of its own, then the record of it in another
 * (DSQL allows neither two DDL statements nor DDL with DML in one transaction). Steps
 * are idempotent, so a crash between the two transactions is repaired by the next run.
 * The adapter's `transaction` retries DSQL's schema conflicts (`OC001`).
 *
 * On DSQL the rendered steps are checked by {@link assertDsqlCompatible} before any runs.
 */
export async function migrate(target: MigrationTarget, steps: readonly MigrationStep[] = MIGRATIONS, now: () => Date = () => new Date()): Promise<MigrationResult> {
  const rendered = steps.map((step) => ({ id: step.id, sql: step.render(target.dialect) }));
  const ids = new Set<string>();
  for (const { id } of rendered) {
    if (ids.has(id)) throw new Error(`duplicate migration id ${id}`);
    ids.add(id);
  }
  if (target.dialect === 'dsql') assertDsqlCompatible([{ id: 'spool_migrations', sql: MIGRATIONS_TABLE_DDL }, ...rendered]);

  await target.transaction((trx) => sql.raw(MIGRATIONS_TABLE_DDL).execute(trx));
  const done = new Set(
    (await target.read((db) => db.withTables<MigrationsTables>().selectFrom('spool_migrations').select('id').execute())).map((row) => row.id),
  );
  const applied: string[] = [];
  for (const step of rendered) {
    if (done.has(step.id)) continue;
    await target.transaction((trx) => sql.raw(step.sql).execute(trx));
    await target.transaction((trx) =>
      trx
        .withTables<MigrationsTables>()
        .insertInto('spool_migrations')
        .values({ id: step.id, applied_at: now().toISOString() })
        .onConflict((conflict) => conflict.column('id').doNothing())
        .execute(),
    );
    applied.push(step.id);
  }
  return { applied };
}
