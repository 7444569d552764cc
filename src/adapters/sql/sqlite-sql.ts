import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { CompiledQuery, Kysely, SqliteDialect, SqliteDriver, type DatabaseConnection, type Driver, type SqliteDialectConfig, type TransactionSettings } from 'kysely';
import type { Database, MigrationResult, Sql, SqlTransaction, TransactionOptions } from '../../ports/sql.js';
import { mapSqlError } from './map-sql-error.js';
import { migrate } from './migrations/migrator.js';
import { definedOnly, withOccRetry, type OccRetryOptions } from './occ.js';

/**
 * Sql on embedded SQLite (better-sqlite3), in its own database file (`sql.db` in the
 * data dir), WAL mode, `synchronous=FULL` (a committed transaction is fsynced: a 2xx
 * is on disk) and a 5 s busy timeout.
 *
 * Concurrency: one connection, so transactions in this process run one at a time, and
 * read-write ones start with `BEGIN IMMEDIATE`, taking the write lock up front, so a
 * writer in another process waits (busy timeout) instead of failing half-way. Writers
 * therefore serialize and SQLite never raises a serialization failure (40001): a
 * read-then-write transaction cannot lose an update, and the retry helper never
 * retries here. It still wraps every transaction, so the code path is the one DSQL takes.
 *
 * Readers run in a deferred transaction (a WAL snapshot) with `query_only` on, so a
 * write inside `read` fails as it does on PostgreSQL and DSQL.
 */
export class SqliteSql implements Sql {
  readonly dialect = 'sqlite' as const;
  private readonly db: Kysely<Database>;

  private constructor(
    database: BetterSqlite3.Database,
    private readonly occ: OccRetryOptions,
  ) {
    this.db = new Kysely<Database>({ dialect: new ImmediateSqliteDialect({ database }) });
  }

  /** Opens (creating if needed) the database file; `:memory:` works for tests. */
  static open(path: string, options: { occ?: OccRetryOptions } = {}): SqliteSql {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    const database = new BetterSqlite3(path);
    try {
      database.pragma('journal_mode = WAL');
      database.pragma('synchronous = FULL');
      database.pragma('busy_timeout = 5000');
    } catch (error) {
      database.close();
      throw error;
    }
    return new SqliteSql(database, options.occ ?? {});
  }

  migrate(): Promise<MigrationResult> {
    return migrate(this);
  }

  read<T>(fn: (db: SqlTransaction) => Promise<T>): Promise<T> {
    return this.db.transaction().setAccessMode('read only').execute(fn);
  }

  async transaction<T>(fn: (trx: SqlTransaction) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
    try {
      return await withOccRetry(() => this.db.transaction().execute(fn), { ...this.occ, ...definedOnly(options) });
    } catch (error) {
      throw mapSqlError(error);
    }
  }

  close(): Promise<void> {
    return this.db.destroy();
  }
}

/** Kysely's SQLite dialect with our transaction start: IMMEDIATE for writers, query-only for readers. */
class ImmediateSqliteDialect extends SqliteDialect {
  constructor(private readonly config: SqliteDialectConfig) {
    super(config);
  }

  override createDriver(): Driver {
    return new ImmediateSqliteDriver(this.config);
  }
}

class ImmediateSqliteDriver extends SqliteDriver {
  private readOnly = false;

  // Kysely passes the settings, though SqliteDriver's signature omits them.
  override async beginTransaction(connection: DatabaseConnection, settings?: TransactionSettings): Promise<void> {
    if (settings?.accessMode === 'read only') {
      await connection.executeQuery(CompiledQuery.raw('pragma query_only = 1'));
      this.readOnly = true;
      try {
        await connection.executeQuery(CompiledQuery.raw('begin'));
      } catch (error) {
        await this.endReadOnly(connection);
        throw error;
      }
    } else {
      await connection.executeQuery(CompiledQuery.raw('begin immediate'));
    }
  }

  override async commitTransaction(connection: DatabaseConnection): Promise<void> {
    try {
      await connection.executeQuery(CompiledQuery.raw('commit'));
    } finally {
      await this.endReadOnly(connection);
    }
  }

  override async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    try {
      await connection.executeQuery(CompiledQuery.raw('rollback'));
    } finally {
      await this.endReadOnly(connection);
    }
  }

  private async endReadOnly(connection: DatabaseConnection): Promise<void> {
    if (!this.readOnly) return;
    this.readOnly = false;
    await connection.executeQuery(CompiledQuery.raw('pragma query_only = 0'));
  }
}
