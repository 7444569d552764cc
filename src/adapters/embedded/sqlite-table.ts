import type Database from 'better-sqlite3';
import { ConditionFailedError, ValidationError } from '../../errors.js';
import { systemClock, type Clock } from '../../ports/clock.js';
import type { AttributeValue, Condition, Item, ItemKey, Page, Table, TableQuery, WriteOptions } from '../../ports/table.js';
import { assertIntegerInRange } from '../../ports/queue.js';
import { conditionsHold } from '../../ports/table-conditions.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import type { SqliteEngine } from './sqlite-engine.js';

// Rows live in insertion order (rowid), found by key through a unique index. The earlier layout
// was a WITHOUT ROWID table ordered by (tbl, pk, sk): with random ids (JOB#<uuid>) each new item,
// and then each of its updates, dirtied a random page of large rows, so one group commit wrote
// about one WAL page per item it touched, and checkpoints had that much more to copy. Now an
// update rewrites only the row, on the recent pages where new items are appended, and the random
// part of a write is one small entry in the key index, at insert time only. (bench/jobs-pipeline.ts:
// ~40 KiB written per job before, ~17 KiB after, and less than half the COMMIT time.)
const SCHEMA = `
CREATE TABLE IF NOT EXISTS table_items (
  id         INTEGER PRIMARY KEY,
  tbl        TEXT NOT NULL,
  pk         TEXT NOT NULL,
  sk         TEXT NOT NULL,
  gsi1pk     TEXT,
  gsi1sk     TEXT,
  expires_at INTEGER,
  data       TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS table_items_by_key ON table_items (tbl, pk, sk);
CREATE INDEX IF NOT EXISTS table_items_by_gsi1 ON table_items (tbl, gsi1pk, gsi1sk, pk, sk) WHERE gsi1pk IS NOT NULL;
CREATE INDEX IF NOT EXISTS table_items_by_expiry ON table_items (expires_at) WHERE expires_at IS NOT NULL;
`;

/** Creates the table, or converts one of the earlier layout (WITHOUT ROWID) in one transaction, keeping its items. */
function ensureLayout(db: Database.Database): void {
  const existing = db.prepare("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'table_items'").get() as { sql: string } | undefined;
  if (existing === undefined || !/WITHOUT\s+ROWID/i.test(existing.sql)) {
    db.exec(SCHEMA);
    return;
  }
  db.transaction(() => {
    db.exec('ALTER TABLE table_items RENAME TO table_items_earlier');
    db.exec(SCHEMA);
    db.exec(
      `INSERT INTO table_items (tbl, pk, sk, gsi1pk, gsi1sk, expires_at, data)
         SELECT tbl, pk, sk, gsi1pk, gsi1sk, expires_at, data FROM table_items_earlier ORDER BY tbl, pk, sk;
       DROP TABLE table_items_earlier;`,
    );
  })();
}

// The largest code point: every string that starts with a prefix sorts below prefix + this.
const PREFIX_END = '\u{10FFFF}';

/**
 * DynamoDB single-table semantics on SQLite: conditional put/update/delete evaluated
 * inside the write transaction, queries by partition and sort-key prefix on the table
 * or on `gsi1`, TTL via `expiresAt` (expired items are invisible at once and swept later).
 */
export class SqliteTable implements Table {
  private readonly sql: ReturnType<typeof prepare>;
  private readonly clock: Clock;

  constructor(private readonly engine: SqliteEngine, readonly name: string, options: { clock?: Clock } = {}) {
    ensureLayout(engine.db);
    this.sql = prepare(engine.db);
    this.clock = options.clock ?? systemClock;
  }

  async get(key: ItemKey): Promise<Item | undefined> {
    return this.read(key);
  }

  async put(item: Item, options: WriteOptions = {}): Promise<void> {
    assertKey(item);
    const data = JSON.stringify(item);
    await this.engine.write(() => {
      this.check(item, options.conditions);
      this.store(item, data);
    });
  }

  /**
   * For a write of the same engine that must include this put (see `SqliteQueue.sendWithItem`):
   * returns a synchronous step that writes `item` if its conditions hold and says whether it
   * did. The step runs inside the caller's transaction; a failed condition changes nothing.
   */
  stagePut(item: Item, options: WriteOptions = {}): () => boolean {
    assertKey(item);
    const data = JSON.stringify(item);
    return () => {
      if (options.conditions !== undefined && !conditionsHold(this.read(item), options.conditions)) return false;
      this.store(item, data);
      return true;
    };
  }

  /** True when this table lives in `engine`'s database (so its writes can share a transaction with others there). */
  isOn(engine: SqliteEngine): boolean {
    return this.engine === engine;
  }

  async update(key: ItemKey, changes: Readonly<Record<string, AttributeValue | undefined>>, options: WriteOptions = {}): Promise<Item> {
    assertKey(key);
    if ('pk' in changes || 'sk' in changes) throw new ValidationError('update cannot change pk or sk');
    return this.engine.write(() => {
      const current = this.check(key, [{ kind: 'exists' }, ...(options.conditions ?? [])])!;
      const next: Record<string, AttributeValue | undefined> = { ...current };
      for (const [attribute, value] of Object.entries(changes)) {
        if (value === undefined) delete next[attribute];
        else next[attribute] = value;
      }
      const item = next as Item;
      this.store(item, JSON.stringify(item));
      return item;
    });
  }

  async delete(key: ItemKey, options: WriteOptions = {}): Promise<void> {
    assertKey(key);
    await this.engine.write(() => {
      this.check(key, options.conditions);
      this.sql.delete.run(this.name, key.pk, key.sk);
    });
  }

  async query(query: TableQuery): Promise<Page<Item>> {
    const limit = query.limit ?? 100;
    assertIntegerInRange('limit', limit, 1, 1000);
    const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
    const prefix = query.sortKeyPrefix ?? '';
    const desc = query.descending === true;
    const statement = this.sql.query(query.index === 'gsi1', desc, after !== undefined);
    const params: Record<string, string | number> = {
      tbl: this.name,
      part: query.partition,
      lo: prefix,
      hi: prefix + PREFIX_END,
      now: this.nowSeconds(),
      limit: limit + 1,
    };
    if (after !== undefined) Object.assign(params, { csk: after.s, cpk: after.p, cisk: after.i ?? '' });
    const rows = statement.all(params) as Array<{ data: string }>;
    const items = rows.slice(0, limit).map((r) => JSON.parse(r.data) as Item);
    const last = items[items.length - 1];
    if (rows.length <= limit || last === undefined) return { items };
    const cursor = encodeCursor(
      query.index === 'gsi1' ? { p: last.pk, s: last.sk, i: String(last['gsi1sk']) } : { p: last.pk, s: last.sk },
    );
    return { items, cursor };
  }

  /** Removes expired items for good; the local runtime calls it periodically. */
  async sweepExpired(): Promise<number> {
    return this.engine.write(() => this.sql.sweep.run(this.name, this.nowSeconds()).changes);
  }

  private read(key: ItemKey): Item | undefined {
    const row = this.sql.get.get(this.name, key.pk, key.sk, this.nowSeconds()) as { data: string } | undefined;
    return row === undefined ? undefined : (JSON.parse(row.data) as Item);
  }

  /** Throws ConditionFailedError unless every condition holds; returns the current item. */
  private check(key: ItemKey, conditions: readonly Condition[] | undefined): Item | undefined {
    const current = this.read(key);
    if (conditions !== undefined && !conditionsHold(current, conditions)) {
      throw new ConditionFailedError(`condition failed on ${this.name} ${key.pk}/${key.sk}`);
    }
    return current;
  }

  private store(item: Item, data: string): void {
    const gsi1pk = typeof item['gsi1pk'] === 'string' ? item['gsi1pk'] : null;
    const gsi1sk = typeof item['gsi1sk'] === 'string' ? item['gsi1sk'] : null;
    const expiresAt = typeof item['expiresAt'] === 'number' ? item['expiresAt'] : null;
    this.sql.upsert.run(this.name, item.pk, item.sk, gsi1pk, gsi1sk, expiresAt, data);
  }

  private nowSeconds(): number {
    return Math.floor(this.clock.now() / 1000);
  }
}

function assertKey(key: ItemKey): void {
  if (typeof key.pk !== 'string' || key.pk.length === 0 || typeof key.sk !== 'string' || key.sk.length === 0) {
    throw new ValidationError('pk and sk must be non-empty strings');
  }
}

const LIVE = '(expires_at IS NULL OR expires_at > :now)';

function prepare(db: Database.Database) {
  const queries = new Map<string, Database.Statement>();
  return {
    get: db.prepare(`SELECT data FROM table_items WHERE tbl = ? AND pk = ? AND sk = ? AND (expires_at IS NULL OR expires_at > ?)`),
    upsert: db.prepare(
      `INSERT INTO table_items (tbl, pk, sk, gsi1pk, gsi1sk, expires_at, data) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (tbl, pk, sk) DO UPDATE SET gsi1pk = excluded.gsi1pk, gsi1sk = excluded.gsi1sk,
         expires_at = excluded.expires_at, data = excluded.data`,
    ),
    delete: db.prepare('DELETE FROM table_items WHERE tbl = ? AND pk = ? AND sk = ?'),
    sweep: db.prepare('DELETE FROM table_items WHERE tbl = ? AND expires_at IS NOT NULL AND expires_at <= ?'),
    /** One statement per (index, direction, has-cursor) shape, prepared on first use. */
    query(onIndex: boolean, desc: boolean, afterCursor: boolean): Database.Statement {
      const shape = `${onIndex}-${desc}-${afterCursor}`;
      let statement = queries.get(shape);
      if (statement === undefined) {
        const [part, sort] = onIndex ? ['gsi1pk', 'gsi1sk'] : ['pk', 'sk'];
        const order = onIndex ? ['gsi1sk', 'pk', 'sk'] : ['sk'];
        const dir = desc ? 'DESC' : 'ASC';
        const cmp = desc ? '<' : '>';
        const cursor = !afterCursor ? '' : onIndex ? `AND (gsi1sk, pk, sk) ${cmp} (:cisk, :cpk, :csk)` : `AND sk ${cmp} :csk`;
        statement = db.prepare(
          `SELECT data FROM table_items WHERE tbl = :tbl AND ${part} = :part AND ${sort} >= :lo AND ${sort} < :hi AND ${LIVE} ${cursor}
           ORDER BY ${order.map((c) => `${c} ${dir}`).join(', ')} LIMIT :limit`,
        );
        queries.set(shape, statement);
      }
      return statement;
    },
  };
}
