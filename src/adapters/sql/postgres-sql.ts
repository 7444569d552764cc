import { CompiledQuery, Kysely, PostgresDialect, PostgresDriver, type DatabaseConnection, type Driver, type PostgresDialectConfig, type TransactionSettings } from 'kysely';
import pg from 'pg';
import type { Database, MigrationResult, Sql, SqlTransaction, TransactionOptions } from '../../ports/sql.js';
import { awsDsqlTokenCache, DSQL_ADMIN_USER, regionFromDsqlEndpoint, type DsqlTokenCache } from './dsql-auth.js';
import { mapSqlError } from './map-sql-error.js';
import { migrate } from './migrations/migrator.js';
import { definedOnly, withOccRetry, type OccRetryOptions } from './occ.js';

export interface PostgresSqlOptions {
  /** Retry settings of `transaction` (defaults: 5 attempts, 10 ms base, 1 s cap). */
  readonly occ?: OccRetryOptions;
  /** Called with errors of idle pooled connections (the pool replaces them); default: ignored. */
  readonly onPoolError?: (error: Error) => void;
}

export interface DsqlConnectOptions extends PostgresSqlOptions {
  /** Cluster endpoint, e.g. `abcdefghijklmnopqrstuvwxyz.dsql.us-east-1.on.aws`. */
  readonly endpoint: string;
  /** Default: parsed from the endpoint. */
  readonly region?: string;
  /** Database role (default `admin`; an application role uses non-admin tokens). */
  readonly user?: string;
  /** Default: a cache over `@aws-sdk/dsql-signer` with the default credential chain. */
  readonly tokens?: DsqlTokenCache;
  /** Pool size (default 10). */
  readonly max?: number;
}

/**
 * Sql on PostgreSQL or Aurora DSQL through Kysely's PostgresDialect on a `pg` pool.
 *
 * Transactions run at REPEATABLE READ, DSQL's only isolation level, so PostgreSQL shows
 * the same anomaly DSQL does: a transaction that read a row a concurrent transaction
 * then changed fails with 40001 instead of overwriting it, and the retry helper runs it
 * again. (PostgreSQL detects it at the conflicting statement, DSQL at COMMIT; both
 * abort the whole transaction, so `fn` re-runs from the start either way.)
 *
 * On DSQL transactions open with a plain `BEGIN` (`BEGIN READ ONLY` for reads): DSQL is
 * always at REPEATABLE READ and refuses `SET TRANSACTION`.
 */
export class PostgresSql implements Sql {
  private readonly db: Kysely<Database>;

  private constructor(
    readonly dialect: 'postgres' | 'dsql',
    pool: pg.Pool,
    private readonly occ: OccRetryOptions,
  ) {
    const config: PostgresDialectConfig = { pool };
    this.db = new Kysely<Database>({ dialect: dialect === 'dsql' ? new DsqlDialect(config) : new PostgresDialect(config) });
  }

  /** PostgreSQL from a `postgres://` URL (`DATABASE_URL`); `pool` adds or overrides pool settings. */
  static connect(url: string, options: PostgresSqlOptions & { pool?: pg.PoolConfig } = {}): PostgresSql {
    const pool = new pg.Pool({ connectionString: url, ...options.pool });
    pool.on('error', options.onPoolError ?? (() => undefined));
    return new PostgresSql('postgres', pool, options.occ ?? {});
  }

  /**
   * Aurora DSQL with IAM authentication: TLS with certificate verification, database
   * `postgres`, a fresh token for each new connection (cached, refreshed before
   * expiry), and connections recycled after 55 minutes (DSQL ends a connection at
   * 60; the AWS connectors use the same 3300 s).
   */
  static dsql(options: DsqlConnectOptions): PostgresSql {
    const user = options.user ?? DSQL_ADMIN_USER;
    const region = options.region ?? regionFromDsqlEndpoint(options.endpoint);
    if (region === undefined) throw new Error(`cannot tell the region of DSQL endpoint ${options.endpoint}: set SPOOL_DSQL_REGION`);
    const tokens = options.tokens ?? awsDsqlTokenCache({ endpoint: options.endpoint, region, user });
    const pool = new pg.Pool({
      host: options.endpoint,
      port: 5432,
      database: 'postgres',
      user,
      password: tokens.password,
      ssl: { rejectUnauthorized: true },
      max: options.max ?? 10,
      maxLifetimeSeconds: 3300,
      idleTimeoutMillis: 600_000,
    });
    pool.on('error', options.onPoolError ?? (() => undefined));
    return new PostgresSql('dsql', pool, options.occ ?? {});
  }

  migrate(): Promise<MigrationResult> {
    return migrate(this);
  }

  read<T>(fn: (db: SqlTransaction) => Promise<T>): Promise<T> {
    const builder = this.db.transaction().setAccessMode('read only');
    return (this.dialect === 'postgres' ? builder.setIsolationLevel('repeatable read') : builder).execute(fn);
  }

  async transaction<T>(fn: (trx: SqlTransaction) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
    const begin = () => (this.dialect === 'postgres' ? this.db.transaction().setIsolationLevel('repeatable read') : this.db.transaction());
    try {
      return await withOccRetry(() => begin().execute(fn), { ...this.occ, ...definedOnly(options) });
    } catch (error) {
      throw mapSqlError(error);
    }
  }

  close(): Promise<void> {
    return this.db.destroy();
  }
}

/** PostgresDialect whose transactions open the way DSQL accepts. */
class DsqlDialect extends PostgresDialect {
  constructor(private readonly config: PostgresDialectConfig) {
    super(config);
  }

  override createDriver(): Driver {
    return new DsqlDriver(this.config);
  }
}

class DsqlDriver extends PostgresDriver {
  override async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw(settings.accessMode === 'read only' ? 'begin read only' : 'begin'));
  }
}
