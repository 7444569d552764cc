import type { Logger } from 'pino';
import { createSql } from '../adapters/sql/create-sql.js';
import type { Config } from '../config.js';
import { createEmbeddedPorts } from './embedded-ports.js';
import { sqlHealthCheck, type Ports } from './ports.js';

/**
 * The ports of the configured backend (`SPOOL_BACKEND`), for the local runtime. With the
 * AWS backend the SQL store is still chosen by `DATABASE_URL` / `SPOOL_DSQL_ENDPOINT`,
 * falling back to SQLite in the data dir. The AWS adapters are loaded only for the AWS
 * backend: the SDK clients cost the embedded process some 25 MiB of RSS for nothing.
 */
export async function createPorts(config: Config, logger: Logger): Promise<Ports> {
  if (config.SPOOL_BACKEND !== 'aws') return createEmbeddedPorts(config, logger);
  const { createAwsPorts } = await import('./aws-ports.js');
  const ports = createAwsPorts(config);
  const sql = createSql(config);
  return {
    ...ports,
    sql,
    healthChecks: { ...ports.healthChecks, sql: sqlHealthCheck(sql) },
    async close() {
      await ports.close();
      await sql.close();
    },
  };
}
