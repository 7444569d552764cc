import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteEngine } from '../../src/adapters/embedded/sqlite-engine.js';

describe('SqliteEngine group commit', () => {
  let dir: string;
  let engine: SqliteEngine;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'spool-engine-'));
    engine = SqliteEngine.open(join(dir, 'db.sqlite'));
    engine.db.exec('CREATE TABLE t (v INTEGER)');
  });
  afterEach(() => {
    engine.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('acknowledges a write only after the WAL has been fsynced', async () => {
    const syncsBefore = engine.syncs;
    await engine.write((db) => db.prepare('INSERT INTO t VALUES (1)').run());
    expect(engine.syncs).toBe(syncsBefore + 1);
  });

  it('commits the writes of one event-loop turn together and keeps a failing one from undoing the others', async () => {
    const results = await Promise.allSettled([
      engine.write((db) => db.prepare('INSERT INTO t VALUES (1)').run()),
      engine.write(() => {
        throw new Error('condition failed');
      }),
      engine.write((db) => db.prepare('INSERT INTO t VALUES (2)').run()),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(engine.commits).toBe(1);
    expect(engine.db.prepare('SELECT COUNT(*) AS n FROM t').get()).toEqual({ n: 2 });
  });
});
