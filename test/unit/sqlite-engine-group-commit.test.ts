import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SqliteEngine } from '../../src/adapters/embedded/sqlite-engine.js';

// A disk whose fdatasync takes `fsyncDelayMs` longer, so a test can know that an fsync is still in flight.
let fsyncDelayMs = 0;
vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  const fdatasync = (fd: number, done: (error: NodeJS.ErrnoException | null) => void): void =>
    fs.fdatasync(fd, (error) => setTimeout(() => done(error), fsyncDelayMs));
  return { ...fs, default: { ...fs, fdatasync }, fdatasync };
});

describe('SqliteEngine group commit while an fsync is in flight', () => {
  let dir: string;
  let engine: SqliteEngine;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'spool-engine-'));
    engine = SqliteEngine.open(join(dir, 'db.sqlite'));
    engine.db.exec('CREATE TABLE t (v INTEGER)');
    fsyncDelayMs = 50;
  });
  afterEach(() => {
    fsyncDelayMs = 0;
    engine.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('commits the writes that arrive during an fsync together, after it, and makes them durable with one more fsync', async () => {
    // Act: 20 writes, each in its own event-loop turn, all while the first one's fsync is in flight.
    const writes = [];
    for (let i = 0; i < 20; i++) {
      writes.push(engine.write((db) => db.prepare('INSERT INTO t VALUES (?)').run(i)));
      await new Promise((r) => setImmediate(r));
    }
    // The first write is committed; the others wait for its fsync instead of committing one by one.
    expect(engine.commits).toBe(1);
    expect(engine.db.prepare('SELECT COUNT(*) AS n FROM t').get()).toEqual({ n: 1 });
    await Promise.all(writes);

    // Assert: two transactions, two fsyncs, every row there.
    expect(engine.commits).toBe(2);
    expect(engine.syncs).toBe(2);
    expect(engine.db.prepare('SELECT COUNT(*) AS n FROM t').get()).toEqual({ n: 20 });
  });

  it('acknowledges no write before the fsync that follows its commit', async () => {
    const first = engine.write((db) => db.prepare('INSERT INTO t VALUES (1)').run());
    await new Promise((r) => setImmediate(r));
    let secondDone = false;
    const second = engine.write((db) => db.prepare('INSERT INTO t VALUES (2)').run()).then(() => (secondDone = true));
    await first;
    // The first fsync is done; the second write was committed only after it, and its own fsync is still running.
    expect(engine.syncs).toBe(1);
    expect(secondDone).toBe(false);
    await second;
    expect(engine.syncs).toBe(2);
  });
  it('acknowledges a transaction that changed no row without an fsync, once earlier writes are on disk', async () => {
    await engine.write((db) => db.prepare('INSERT INTO t VALUES (1)').run());
    const syncs = engine.syncs;
    const changes = await engine.write((db) => db.prepare('UPDATE t SET v = 2 WHERE v = 99').run().changes);
    expect(changes).toBe(0);
    expect(engine.syncs).toBe(syncs);

    // One that arrives while an fsync is in flight still waits for it.
    const insert = engine.write((db) => db.prepare('INSERT INTO t VALUES (3)').run());
    await new Promise((r) => setImmediate(r));
    let noopDone = false;
    const noop = engine.write((db) => db.prepare('UPDATE t SET v = 2 WHERE v = 99').run()).then(() => (noopDone = true));
    await new Promise((r) => setTimeout(r, 10));
    expect(noopDone).toBe(false);
    await Promise.all([insert, noop]);
    expect(engine.syncs).toBe(syncs + 1);
  });
});
