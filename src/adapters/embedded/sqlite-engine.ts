import { closeSync, fdatasync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';

/** How an acknowledged write is made durable. */
export type Durability =
  /** fsync the WAL after each group commit, off the event loop (the default). */
  | 'fsync'
  /** No fsync at commit: survives `kill -9` but not a power cut. For throwaway data only. */
  | 'os-buffered';

/**
 * One SQLite database (WAL) shared by the embedded queue and table adapters, with
 * **group commit**: writes submitted in the same event-loop turn run in one
 * transaction, and writes submitted while an fsync is in flight wait for it and then run
 * together in the next transaction (and share the next fsync). They would wait for that
 * fsync anyway; committing them together instead of one transaction per turn writes each
 * hot page to the WAL once per fsync, not once per turn (fewer WAL frames, fewer and later
 * checkpoints, less CPU in COMMIT). Each write runs in its own savepoint, so one failing
 * write (say, a failed condition) does not undo the others.
 *
 * Durability: SQLite runs with `synchronous=NORMAL`, which writes the WAL at commit but does
 * not fsync it; the engine then fdatasyncs the WAL file itself on the libuv thread pool and
 * resolves a write's promise only after that. This is exactly what `synchronous=FULL` adds
 * in WAL mode (an fsync of the WAL per commit), but it keeps the event loop free while the
 * disk works. A later commit cannot survive a crash without the earlier ones (WAL frames are
 * checksummed in sequence), so nothing acknowledged is lost and nothing is reordered.
 *
 * Readers in this process may see a committed write a moment before it is durable; they
 * never see a write that could then be rolled back by anything but a crash.
 *
 * @example
 * const engine = SqliteEngine.open('./.spool/spool.db');
 * const id = await engine.write((db) => db.prepare('INSERT ...').run().lastInsertRowid);
 */
export class SqliteEngine {
  readonly db: Database.Database;
  private pending: PendingWrite[] = [];
  private scheduled = false;
  private closed = false;
  private readonly savepoint: Database.Statement;
  private readonly release: Database.Statement;
  private readonly rollbackTo: Database.Statement;
  /** Rows changed by INSERT, UPDATE and DELETE on this connection so far. */
  private readonly totalChanges: Database.Statement;
  private walFd: number | undefined;
  /** Settled writes waiting for the next fsync. */
  private awaitingSync: Array<() => void> = [];
  private syncing = false;
  /** Number of transactions committed so far (observability and benchmarks). */
  commits = 0;
  /** Number of WAL fsyncs so far. */
  syncs = 0;

  private constructor(
    db: Database.Database,
    private readonly walPath: string | undefined,
  ) {
    this.db = db;
    this.savepoint = db.prepare('SAVEPOINT w');
    this.release = db.prepare('RELEASE w');
    this.rollbackTo = db.prepare('ROLLBACK TO w');
    this.totalChanges = db.prepare('SELECT total_changes()').pluck();
  }

  /** Opens (creating if needed) a database file; `:memory:` works for tests. */
  static open(path: string, options: { durability?: Durability } = {}): SqliteEngine {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    const db = new Database(path);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('busy_timeout = 5000');
    // Checkpoint less often than the default 1000 pages: fewer stalls under load.
    db.pragma('wal_autocheckpoint = 4000');
    const fsync = (options.durability ?? 'fsync') === 'fsync' && path !== ':memory:';
    return new SqliteEngine(db, fsync ? `${path}-wal` : undefined);
  }

  /**
   * Queues `fn` to run inside the next group-commit transaction and resolves with its
   * return value once that transaction is durable. `fn` must be synchronous, and change data
   * only with INSERT, UPDATE and DELETE (schema changes belong where a table is opened): a
   * transaction that changed no row is acknowledged without an fsync of its own.
   */
  write<T>(fn: (db: Database.Database) => T): Promise<T> {
    if (this.closed) return Promise.reject(new Error('database is closed'));
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ fn, resolve: resolve as (v: unknown) => void, reject });
      // While an fsync is in flight, writes wait for it and then share one transaction.
      if (!this.syncing) this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  /** Commits what is pending now, makes it durable synchronously, then closes the database. */
  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    // A full checkpoint fsyncs the WAL and the database: everything committed is on disk now.
    if (this.walPath !== undefined) this.db.pragma('wal_checkpoint(FULL)');
    for (const settle of this.awaitingSync.splice(0)) settle();
    // An fdatasync still in flight closes the descriptor when it returns.
    if (this.walFd !== undefined && !this.syncing) closeSync(this.walFd);
    this.db.close();
  }

  private flush(): void {
    this.scheduled = false;
    const batch = this.pending;
    if (batch.length === 0) return;
    this.pending = [];
    const outcomes: Array<{ ok: true; value: unknown } | { ok: false; error: unknown }> = [];
    let changed: boolean;
    try {
      this.db.exec('BEGIN IMMEDIATE');
      const changesBefore = this.totalChanges.get() as number;
      for (const write of batch) {
        this.savepoint.run();
        try {
          outcomes.push({ ok: true, value: write.fn(this.db) });
          this.release.run();
        } catch (error) {
          this.rollbackTo.run();
          this.release.run();
          outcomes.push({ ok: false, error });
        }
      }
      changed = (this.totalChanges.get() as number) !== changesBefore;
      this.db.exec('COMMIT');
      this.commits++;
    } catch (error) {
      if (this.db.inTransaction) this.db.exec('ROLLBACK');
      for (const write of batch) write.reject(error);
      return;
    }
    const settle = () =>
      batch.forEach((write, i) => {
        const outcome = outcomes[i]!;
        if (outcome.ok) write.resolve(outcome.value);
        else write.reject(outcome.error);
      });
    // A transaction that changed no row wrote nothing to the WAL (an empty receive, a failed
    // condition, a stale receipt). With no fsync in flight everything committed before it is on
    // disk already (writes wait for a running fsync), so its outcome needs no fsync of its own.
    if (!changed && !this.syncing && this.awaitingSync.length === 0) settle();
    else this.afterSync(settle);
  }

  /** Runs `settle` once everything committed so far is on disk. */
  private afterSync(settle: () => void): void {
    if (this.walPath === undefined) return settle();
    this.awaitingSync.push(settle);
    if (!this.syncing) this.sync();
  }

  private sync(): void {
    const waiting = this.awaitingSync;
    this.awaitingSync = [];
    this.syncing = true;
    // The WAL file exists once the first transaction has committed.
    this.walFd ??= openSync(this.walPath!, 'r');
    const fd = this.walFd;
    fdatasync(fd, (error) => {
      this.syncing = false;
      this.syncs++;
      if (this.closed) {
        closeSync(fd);
        for (const settle of waiting) settle();
        return;
      }
      if (error) {
        // Durability cannot be promised any more (and a retried fsync may falsely succeed):
        // crash rather than acknowledge, as databases do.
        throw new Error(`fdatasync of ${this.walPath} failed`, { cause: error });
      }
      for (const settle of waiting) settle();
      if (this.awaitingSync.length > 0) this.sync();
      else if (this.pending.length > 0) this.schedule();
    });
  }
}

interface PendingWrite {
  fn: (db: Database.Database) => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}
