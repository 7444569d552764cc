import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createSql } from '../../src/adapters/sql/create-sql.js';
import { SqliteSql } from '../../src/adapters/sql/sqlite-sql.js';
import { loadConfig } from '../../src/config.js';
import { describeSqlContract } from './sql.contract.js';

describeSqlContract({
  name: 'embedded SQLite',
  // Writers serialize (BEGIN IMMEDIATE on one connection): SQLite never raises 40001.
  capabilities: new Set(),
  async create() {
    const dir = mkdtempSync(join(tmpdir(), 'spool-sql-'));
    const sql = SqliteSql.open(join(dir, 'sql.db'));
    return {
      sql,
      dispose: async () => {
        await sql.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
});

describe('createSql without DATABASE_URL or SPOOL_DSQL_ENDPOINT', () => {
  it('opens SQLite in sql.db in the data dir', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'spool-sql-'));
    try {
      const sql = createSql(loadConfig({ SPOOL_DATA_DIR: dataDir }));
      expect(sql.dialect).toBe('sqlite');
      await sql.migrate();
      await sql.close();
      expect(existsSync(join(dataDir, 'sql.db'))).toBe(true);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
