import { join } from 'node:path';
import type { Config } from '../../config.js';
import type { Sql } from '../../ports/sql.js';
import { regionFromDsqlEndpoint } from './dsql-auth.js';
import { PostgresSql } from './postgres-sql.js';
import { SqliteSql } from './sqlite-sql.js';

/**
 * The Sql adapter the configuration asks for: Aurora DSQL when `SPOOL_DSQL_ENDPOINT` is
 * set (region: `SPOOL_DSQL_REGION`, else the endpoint's, else `AWS_REGION`), PostgreSQL when `DATABASE_URL` is, otherwise SQLite in `<SPOOL_DATA_DIR>/sql.db`
 * (a file of its own, apart from the queue and table engine's `spool.db`).
 */
export function createSql(
  config: Pick<Config, 'SPOOL_DATA_DIR' | 'DATABASE_URL' | 'SPOOL_DSQL_ENDPOINT' | 'SPOOL_DSQL_REGION' | 'SPOOL_DSQL_USER' | 'AWS_REGION'>,
): Sql {
  if (config.SPOOL_DSQL_ENDPOINT !== undefined) {
    return PostgresSql.dsql({
      endpoint: config.SPOOL_DSQL_ENDPOINT,
      user: config.SPOOL_DSQL_USER,
      region: config.SPOOL_DSQL_REGION ?? regionFromDsqlEndpoint(config.SPOOL_DSQL_ENDPOINT) ?? config.AWS_REGION,
    });
  }
  if (config.DATABASE_URL !== undefined) return PostgresSql.connect(config.DATABASE_URL);
  return SqliteSql.open(join(config.SPOOL_DATA_DIR, 'sql.db'));
}
