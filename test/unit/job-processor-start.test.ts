import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { jobItem } from '../../src/domain/jobs/job-records.js';
import { systemClock } from '../../src/ports/clock.js';
import { createEmbeddedPorts } from '../../src/runtime/embedded-ports.js';
import type { Ports } from '../../src/runtime/ports.js';
import { createJobProcessor } from '../../src/workers/job-processor.js';
import type { Attempt, QueueRecord } from '../../src/workers/queue-record.js';

const attempt = (n: number): Attempt => ({ number: n, final: false, signal: new AbortController().signal });
const record = (body: unknown, receiveCount = 1): QueueRecord => ({ messageId: 'm-1', body: JSON.stringify(body), receiptHandle: 'r', receiveCount });

describe('Job processor: starting a job', () => {
  let dir: string;
  let ports: Ports;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'spool-start-'));
    ports = createEmbeddedPorts(loadConfig({ SPOOL_DATA_DIR: dir }), pino({ level: 'silent' }));
  });
  afterEach(async () => {
    await ports.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const key = (jobId: string) => ({ pk: `JOB#${jobId}`, sk: 'JOB' });
  const handler = () => createJobProcessor({ jobs: ports.jobsTable, results: ports.results, callbacks: ports.callbacksQueue, clock: systemClock });

  it('creates the status record from the message when it is missing, then completes the job', async () => {
    const message = { jobId: '0196b1a8-1234-7abc-8def-0123456789ab', task: 'echo', data: 'hi', createdAt: new Date().toISOString() };
    await handler()(record(message, 2), attempt(2));
    expect(await ports.jobsTable.get(key(message.jobId))).toMatchObject({ status: 'completed', attempts: 2, createdAt: message.createdAt, result: 'hi' });
  });

  it('moves a queued job to completed with one read of the record less: no separate read before starting', async () => {
    const now = new Date().toISOString();
    const message = { jobId: '0196b1a8-1234-7abc-8def-0123456789ac', task: 'echo', data: 'x', createdAt: now };
    await ports.jobsTable.put(jobItem({ jobId: message.jobId, task: 'echo', status: 'queued', attempts: 0, createdAt: now, updatedAt: now }));
    const get = vi.spyOn(ports.jobsTable, 'get');
    await handler()(record(message), attempt(1));
    expect(get).not.toHaveBeenCalled();
    expect(await ports.jobsTable.get(key(message.jobId))).toMatchObject({ status: 'completed', attempts: 1, gsi1pk: 'STATUS#completed' });
  });

  it('acknowledges a redelivered message of a completed job without running it or changing the record', async () => {
    const message = { jobId: '0196b1a8-1234-7abc-8def-0123456789ad', task: 'echo', data: 'x', createdAt: new Date().toISOString() };
    await handler()(record(message), attempt(1));
    const done = await ports.jobsTable.get(key(message.jobId));
    const put = vi.spyOn(ports.results, 'put');
    await handler()(record(message, 2), attempt(2));
    expect(put).not.toHaveBeenCalled();
    expect(await ports.jobsTable.get(key(message.jobId))).toEqual(done);
  });

  it('still runs the job when the API writes the record between the worker’s failed start and its read (SQS: message before record)', async () => {
    // Arrange: the record is missing when the worker tries to start; the API's put lands just before the worker reads.
    const now = new Date().toISOString();
    const message = { jobId: '0196b1a8-1234-7abc-8def-0123456789ae', task: 'echo', data: 'late', createdAt: now };
    const get = ports.jobsTable.get.bind(ports.jobsTable);
    vi.spyOn(ports.jobsTable, 'get').mockImplementationOnce(async (key) => {
      await ports.jobsTable.put(jobItem({ jobId: message.jobId, task: 'echo', status: 'queued', attempts: 0, createdAt: now, updatedAt: now }));
      return get(key);
    });
    // Act
    await handler()(record(message), attempt(1));
    // Assert
    expect(await ports.jobsTable.get(key(message.jobId))).toMatchObject({ status: 'completed', attempts: 1, result: 'late' });
  });
});
