import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteEngine } from '../../src/adapters/embedded/sqlite-engine.js';
import { SqliteTable } from '../../src/adapters/embedded/sqlite-table.js';

// The earlier layout: items in a WITHOUT ROWID table keyed by (tbl, pk, sk).
const EARLIER_SCHEMA = `
CREATE TABLE table_items (
  tbl TEXT NOT NULL, pk TEXT NOT NULL, sk TEXT NOT NULL, gsi1pk TEXT, gsi1sk TEXT, expires_at INTEGER, data TEXT NOT NULL,
  PRIMARY KEY (tbl, pk, sk)
) WITHOUT ROWID;
CREATE INDEX table_items_gsi1 ON table_items (tbl, gsi1pk, gsi1sk, pk, sk) WHERE gsi1pk IS NOT NULL;
CREATE INDEX table_items_ttl ON table_items (expires_at) WHERE expires_at IS NOT NULL;
`;

describe('SqliteTable storage layout', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'spool-table-layout-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('takes over the items of a database written with the earlier layout, once', async () => {
    // Arrange: a data dir from before, with two tables' items in table_items.
    const path = join(dir, 'spool.db');
    const before = SqliteEngine.open(path);
    before.db.exec(EARLIER_SCHEMA);
    const insert = before.db.prepare('INSERT INTO table_items VALUES (?, ?, ?, ?, ?, ?, ?)');
    const job = { pk: 'JOB#1', sk: 'JOB', status: 'completed', gsi1pk: 'STATUS#completed', gsi1sk: '2026-01-01T00:00:00.000Z#1' };
    const order = { pk: 'ORDER#9', sk: 'ORDER', status: 'pending' };
    const key = { pk: 'IDEMPOTENCY#k', sk: 'IDEMPOTENCY', jobId: '1', expiresAt: 4_102_444_800 };
    insert.run('jobs', job.pk, job.sk, job.gsi1pk, job.gsi1sk, null, JSON.stringify(job));
    insert.run('jobs', key.pk, key.sk, null, null, key.expiresAt, JSON.stringify(key));
    insert.run('orders', order.pk, order.sk, null, null, null, JSON.stringify(order));
    before.close();

    // Act: open it the way the runtime does, one table after the other.
    const engine = SqliteEngine.open(path);
    try {
      const jobs = new SqliteTable(engine, 'jobs');
      const orders = new SqliteTable(engine, 'orders');

      // Assert: every item is there, by key and by index; the old table is gone.
      expect(await jobs.get({ pk: 'JOB#1', sk: 'JOB' })).toEqual(job);
      expect(await jobs.get({ pk: 'IDEMPOTENCY#k', sk: 'IDEMPOTENCY' })).toEqual(key);
      expect(await orders.get({ pk: 'ORDER#9', sk: 'ORDER' })).toEqual(order);
      expect((await jobs.query({ index: 'gsi1', partition: 'STATUS#completed' })).items).toEqual([job]);
      expect(engine.db.prepare("SELECT name FROM sqlite_master WHERE name LIKE 'table_items%' ORDER BY name").all()).toEqual(
        ['table_items', 'table_items_by_expiry', 'table_items_by_gsi1', 'table_items_by_key'].map((name) => ({ name })),
      );
      expect((engine.db.prepare("SELECT sql FROM sqlite_master WHERE name = 'table_items'").get() as { sql: string }).sql).not.toMatch(/WITHOUT ROWID/);
      // Writes keep working, and a conditional put still sees the migrated item.
      await expect(jobs.put(job, { conditions: [{ kind: 'notExists' }] })).rejects.toThrow(/condition failed/);
      await jobs.update({ pk: 'JOB#1', sk: 'JOB' }, { status: 'failed' });
      expect(await jobs.get({ pk: 'JOB#1', sk: 'JOB' })).toMatchObject({ status: 'failed' });
    } finally {
      engine.close();
    }
  });

  it('updates an item in place: its row keeps its position, only the key index maps it', async () => {
    const engine = SqliteEngine.open(join(dir, 'spool.db'));
    try {
      const table = new SqliteTable(engine, 'jobs');
      await table.put({ pk: 'JOB#a', sk: 'JOB', n: 1 });
      await table.put({ pk: 'JOB#b', sk: 'JOB', n: 1 });
      const rowid = () => engine.db.prepare("SELECT id FROM table_items WHERE pk = 'JOB#a'").get();
      const first = rowid();
      await table.update({ pk: 'JOB#a', sk: 'JOB' }, { n: 2 });
      await table.put({ pk: 'JOB#a', sk: 'JOB', n: 3 });
      expect(rowid()).toEqual(first);
      expect(await table.get({ pk: 'JOB#a', sk: 'JOB' })).toEqual({ pk: 'JOB#a', sk: 'JOB', n: 3 });
    } finally {
      engine.close();
    }
  });
});
