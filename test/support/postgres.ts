import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { PostgresSql, type PostgresSqlOptions } from '../../src/adapters/sql/postgres-sql.js';

/** The machine's PostgreSQL (trust auth); override with SPOOL_TEST_DATABASE_URL. */
export const TEST_DATABASE_URL = process.env['SPOOL_TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';

/**
 * A {@link PostgresSql} on a schema of its own (through `search_path`), not yet migrated;
 * `dispose` closes it and drops the schema. No skip when PostgreSQL is down: it throws,
 * saying so, and the suite fails.
 *
 * @example
 * const { sql, dispose } = await createPostgresTestSql();
 * await sql.migrate();
 * // ...
 * await dispose();
 */
export async function createPostgresTestSql(options: PostgresSqlOptions = {}): Promise<{ sql: PostgresSql; dispose(): Promise<void> }> {
  const admin = new pg.Client({ connectionString: TEST_DATABASE_URL, connectionTimeoutMillis: 5000 });
  try {
    await admin.connect();
  } catch (error) {
    throw new Error(
      `PostgreSQL is not reachable at ${TEST_DATABASE_URL} (${String(error)}). These tests need it: ` + 'start PostgreSQL, or point SPOOL_TEST_DATABASE_URL at one.',
      { cause: error },
    );
  }
  const schema = `spool_test_${randomUUID().replaceAll('-', '')}`;
  await admin.query(`CREATE SCHEMA ${schema}`);
  const sql = PostgresSql.connect(TEST_DATABASE_URL, { ...options, pool: { options: `-c search_path=${schema}`, max: 10, connectionTimeoutMillis: 5000 } });
  return {
    sql,
    dispose: async () => {
      try {
        await sql.close();
        await admin.query(`DROP SCHEMA ${schema} CASCADE`);
      } finally {
        await admin.end();
      }
    },
  };
}
