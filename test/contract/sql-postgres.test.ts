import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { PostgresSql } from '../../src/adapters/sql/postgres-sql.js';
import { describeSqlContract } from './sql.contract.js';

/** The machine's PostgreSQL (trust auth); override with SPOOL_TEST_DATABASE_URL. */
const DATABASE_URL = process.env['SPOOL_TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';

describeSqlContract({
  name: 'PostgreSQL',
  capabilities: new Set(['serializationFailures']),
  // A schema of its own per test (search_path), dropped afterwards. No skip when
  // PostgreSQL is down: the suite fails, saying so.
  async create() {
    const admin = new pg.Client({ connectionString: DATABASE_URL, connectionTimeoutMillis: 5000 });
    try {
      await admin.connect();
    } catch (error) {
      throw new Error(
        `PostgreSQL is not reachable at ${DATABASE_URL} (${String(error)}). The Sql contract suite needs it: ` +
          'start PostgreSQL, or point SPOOL_TEST_DATABASE_URL at one.',
        { cause: error },
      );
    }
    const schema = `spool_test_${randomUUID().replaceAll('-', '')}`;
    await admin.query(`CREATE SCHEMA ${schema}`);
    const sql = PostgresSql.connect(DATABASE_URL, { pool: { options: `-c search_path=${schema}`, max: 10, connectionTimeoutMillis: 5000 } });
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
  },
});
