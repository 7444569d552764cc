import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileObjectStore } from '../../src/adapters/embedded/file-object-store.js';
import { SqliteEngine } from '../../src/adapters/embedded/sqlite-engine.js';
import { SqliteQueue } from '../../src/adapters/embedded/sqlite-queue.js';
import { SqliteTable } from '../../src/adapters/embedded/sqlite-table.js';
import { JobService } from '../../src/domain/jobs/job-service.js';
import { systemClock } from '../../src/ports/clock.js';

describe('SqliteQueue.sendWithItem: a message and a table item in one transaction', () => {
  let dir: string;
  let engine: SqliteEngine;
  let queue: SqliteQueue;
  let table: SqliteTable;
  const item = { pk: 'JOB#1', sk: 'JOB', status: 'queued' };
  const notExists = { conditions: [{ kind: 'notExists' as const }] };
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'spool-send-with-item-'));
    engine = SqliteEngine.open(join(dir, 'spool.db'));
    queue = new SqliteQueue(engine, { name: 'jobs', visibilityTimeoutSeconds: 30, maxReceiveCount: 3, retentionSeconds: 3600 });
    table = new SqliteTable(engine, 'jobs');
  });
  afterEach(() => {
    engine.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes both with one commit and one fsync', async () => {
    const commits = engine.commits;
    const syncs = engine.syncs;
    const { messageIds, itemWritten } = await queue.sendWithItem([{ body: 'm' }], table, item, notExists);
    expect(itemWritten).toBe(true);
    expect(messageIds).toHaveLength(1);
    expect([engine.commits - commits, engine.syncs - syncs]).toEqual([1, 1]);
    expect(await table.get({ pk: 'JOB#1', sk: 'JOB' })).toEqual(item);
    expect((await queue.receive({ maxMessages: 10 })).map((m) => [m.messageId, m.body])).toEqual([[messageIds[0], 'm']]);
  });

  it('sends the message but leaves the item alone when its condition fails', async () => {
    await table.put({ ...item, status: 'completed' });
    const { itemWritten } = await queue.sendWithItem([{ body: 'm' }], table, item, notExists);
    expect(itemWritten).toBe(false);
    expect(await table.get({ pk: 'JOB#1', sk: 'JOB' })).toMatchObject({ status: 'completed' });
    expect(await queue.receive({ maxMessages: 10 })).toHaveLength(1);
  });

  it('writes no item when the message is refused', async () => {
    await expect(queue.sendWithItem([{ body: 'm', delaySeconds: 901 }], table, item, notExists)).rejects.toThrow(RangeError);
    expect(await table.get({ pk: 'JOB#1', sk: 'JOB' })).toBeUndefined();
    expect((await queue.stats()).delayed + (await queue.stats()).visible).toBe(0);
  });

  it('undoes the message when the item cannot be written', async () => {
    const broken = { ...item, sk: '' };
    await expect(queue.sendWithItem([{ body: 'm' }], table, broken, notExists)).rejects.toThrow(/pk and sk/);
    expect(await queue.receive({ maxMessages: 10 })).toHaveLength(0);
  });

  it('falls back to two writes, message first, for a table in another database', async () => {
    const other = SqliteEngine.open(join(dir, 'other.db'));
    try {
      const elsewhere = new SqliteTable(other, 'jobs');
      const { itemWritten } = await queue.sendWithItem([{ body: 'm' }], elsewhere, item, notExists);
      expect(itemWritten).toBe(true);
      expect(await elsewhere.get({ pk: 'JOB#1', sk: 'JOB' })).toEqual(item);
      expect(await queue.receive({ maxMessages: 10 })).toHaveLength(1);
    } finally {
      other.close();
    }
  });

  it('lets JobService.submit accept a job with one commit: the message and its queued record', async () => {
    const jobs = new JobService({ jobs: table, queue, results: new FileObjectStore(dir, 'results'), clock: systemClock });
    const commits = engine.commits;
    const { job, created } = await jobs.submit({ task: 'echo', data: { a: 1 } });
    expect(created).toBe(true);
    expect(engine.commits - commits).toBe(1);
    expect(await jobs.get(job.jobId)).toMatchObject({ jobId: job.jobId, status: 'queued', attempts: 0 });
    const [message] = await queue.receive({ maxMessages: 10 });
    expect(JSON.parse(message!.body)).toMatchObject({ jobId: job.jobId, task: 'echo', data: { a: 1 } });
  });
});
