import { mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileObjectStore } from '../../src/adapters/embedded/file-object-store.js';
import { SqliteEngine } from '../../src/adapters/embedded/sqlite-engine.js';
import { SqliteQueue } from '../../src/adapters/embedded/sqlite-queue.js';
import { SqliteTable } from '../../src/adapters/embedded/sqlite-table.js';
import { describeObjectStoreContract } from './object-store.contract.js';
import { describeQueueContract } from './queue.contract.js';
import { describeTableContract } from './table.contract.js';

/** A fresh database file in a temp dir, removed afterwards. */
function tempEngine() {
  const dir = mkdtempSync(join(tmpdir(), 'spool-contract-'));
  const engine = SqliteEngine.open(join(dir, 'spool.db'));
  return {
    dir,
    engine,
    dispose: async () => {
      engine.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

describeQueueContract({
  name: 'embedded SQLite',
  capabilities: new Set(['staleReceiptIgnored']),
  async create() {
    const { engine, dispose } = tempEngine();
    const queue = new SqliteQueue(engine, { name: 'contract', visibilityTimeoutSeconds: 1, maxReceiveCount: 2, retentionSeconds: 1_209_600 });
    return { queue, dispose };
  },
});

describeTableContract({
  name: 'embedded SQLite',
  capabilities: new Set(['ttlHidesExpired']),
  async create() {
    const { engine, dispose } = tempEngine();
    return { table: new SqliteTable(engine, 'contract'), dispose };
  },
});

describeObjectStoreContract({
  name: 'embedded files',
  async create() {
    const { dir, dispose } = tempEngine();
    return { store: new FileObjectStore(dir, 'results'), dispose };
  },
});

describe('FileObjectStore temp files', () => {
  it('sweeps temp files left by interrupted puts, and only old ones', async () => {
    const { dir, dispose } = tempEngine();
    const store = new FileObjectStore(dir, 'results');
    await store.put('a/b', 'x');
    const tmp = join(dir, 'results', '.tmp');
    writeFileSync(join(tmp, 'cut-off'), 'half');
    utimesSync(join(tmp, 'cut-off'), new Date(Date.now() - 7_200_000), new Date(Date.now() - 7_200_000));
    writeFileSync(join(tmp, 'in-flight'), 'half');

    expect(await store.sweepTempFiles()).toBe(1);
    expect(readdirSync(tmp)).toEqual(['in-flight']);
    expect(Buffer.from((await store.get('a/b'))!.body).toString()).toBe('x');
    await dispose();
  });
});
