import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createEmbeddedPorts } from '../../src/runtime/embedded-ports.js';
import type { Ports } from '../../src/runtime/ports.js';
import { systemClock } from '../../src/ports/clock.js';
import { createJobProcessor } from '../../src/workers/job-processor.js';
import { createOrderProcessor } from '../../src/workers/order-processor.js';
import type { Attempt, QueueRecord } from '../../src/workers/queue-record.js';

const attempt = (n: number, final = false): Attempt => ({ number: n, final, signal: new AbortController().signal });
const record = (body: unknown, receiveCount = 1): QueueRecord => ({ messageId: 'm-1', body: JSON.stringify(body), receiptHandle: 'r', receiveCount });

describe('Redelivered messages are processed at most once', () => {
  let dir: string;
  let ports: Ports;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'spool-redeliver-'));
    ports = createEmbeddedPorts(loadConfig({ SPOOL_DATA_DIR: dir }), pino({ level: 'silent' }));
  });
  afterEach(async () => {
    await ports.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes a job result once and completes the job once, even when the same message is delivered twice at the same time', async () => {
    // Arrange
    const put = vi.spyOn(ports.results, 'put');
    const handle = createJobProcessor({ jobs: ports.jobsTable, results: ports.results, callbacks: ports.callbacksQueue, clock: systemClock });
    const message = { jobId: '6f1c1a52-3b0e-4d53-8f5c-2a1b3c4d5e6f', task: 'echo', data: 'x', createdAt: new Date().toISOString() };

    // Act: two concurrent deliveries, then a late third one.
    await Promise.all([handle(record(message, 1), attempt(1)), handle(record(message, 2), attempt(2))]);
    await handle(record(message, 3), attempt(3));

    // Assert
    const settled = await Promise.allSettled(put.mock.results.map((r) => r.value as Promise<void>));
    expect(settled.filter((s) => s.status === 'fulfilled')).toHaveLength(1);
    expect(await ports.jobsTable.get({ pk: `JOB#${message.jobId}`, sk: 'JOB' })).toMatchObject({ status: 'completed', result: 'x' });
  });

  it('creates an order once and never changes a confirmed order on redelivery', async () => {
    const handle = createOrderProcessor({ orders: ports.ordersTable, clock: systemClock });
    const message = { orderId: '0f8fad5b-d9cb-469f-a165-70867728950e', amount: 5, currency: 'EUR', createdAt: new Date().toISOString() };

    await handle(record(message), attempt(1));
    const first = await ports.ordersTable.get({ pk: `ORDER#${message.orderId}`, sk: 'ORDER' });
    await new Promise((r) => setTimeout(r, 5));
    await handle(record({ ...message, amount: 999 }, 2), attempt(2));

    expect(await ports.ordersTable.get({ pk: `ORDER#${message.orderId}`, sk: 'ORDER' })).toEqual(first);
    expect(first).toMatchObject({ status: 'confirmed', amount: 5 });
  });

  it('does not run a completed job again', async () => {
    const run = vi.fn();
    const handle = createJobProcessor({ jobs: ports.jobsTable, results: ports.results, callbacks: ports.callbacksQueue, clock: systemClock });
    const message = { jobId: '7a1c1a52-3b0e-4d53-8f5c-2a1b3c4d5e6f', task: 'process_data', data: 'a b', createdAt: new Date().toISOString() };
    await handle(record(message), attempt(1));
    const put = vi.spyOn(ports.results, 'put').mockImplementation(run);

    await handle(record(message, 2), attempt(2));

    expect(put).not.toHaveBeenCalled();
  });

  it('fails a malformed job message without touching the table', async () => {
    const handle = createJobProcessor({ jobs: ports.jobsTable, results: ports.results, callbacks: ports.callbacksQueue, clock: systemClock });
    await expect(handle({ ...record({}), body: 'not json' }, attempt(1))).rejects.toThrow(/malformed/);
    await expect(handle(record({ jobId: 'x' }), attempt(1))).rejects.toThrow(/malformed/);
  });
});
