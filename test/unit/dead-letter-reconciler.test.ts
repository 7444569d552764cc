import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { systemClock } from '../../src/ports/clock.js';
import type { Notification, Topic } from '../../src/ports/topic.js';
import { createConsumers, type Consumers } from '../../src/runtime/consumers.js';
import { createEmbeddedPorts } from '../../src/runtime/embedded-ports.js';
import type { Ports } from '../../src/runtime/ports.js';
import { reconcileDeadLetters } from '../../src/workers/dead-letter-reconciler.js';
import { processBatch } from '../../src/workers/queue-record.js';

const logger = pino({ level: 'silent' });

describe('Messages dead-lettered because the worker died during every delivery', () => {
  let dir: string;
  let ports: Ports;
  let consumers: Consumers;
  let alerts: Notification[];
  let topic: Topic;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'spool-reconcile-'));
    const config = loadConfig({ SPOOL_DATA_DIR: dir, SPOOL_JOBS_VISIBILITY_SECONDS: '1', SPOOL_RETRY_BASE_SECONDS: '0', SPOOL_ALERT_SUBSCRIBERS: '' });
    ports = createEmbeddedPorts(config, logger);
    alerts = [];
    topic = { name: 'alerts', publish: async (n) => (alerts.push(n), String(alerts.length)) };
    consumers = createConsumers(config, { ...ports, alerts: topic }, logger);
  });
  afterEach(async () => {
    await ports.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const deps = () => ({ ledger: ports.jobsTable, alerts: topic, clock: systemClock, logger });

  it('marks the job failed and raises exactly one alert, however often reconciliation runs', async () => {
    // Arrange: a job whose three deliveries were all cut off (received, never finished).
    const jobId = '5d1f3a52-46f4-4d3b-9c2e-1a2b3c4d5e6f';
    const message = { jobId, task: 'echo', data: 1, createdAt: new Date().toISOString() };
    await ports.jobsTable.put({ pk: `JOB#${jobId}`, sk: 'JOB', jobId, task: 'echo', status: 'processing', attempts: 3, createdAt: message.createdAt, updatedAt: message.createdAt, gsi1pk: 'STATUS#processing', gsi1sk: `${message.createdAt}#${jobId}` });
    await ports.jobsQueue.send([{ body: JSON.stringify(message) }]);
    for (let delivery = 1; delivery <= 3; delivery++) {
      const [received] = await ports.jobsQueue.receive({ maxMessages: 1, waitTimeSeconds: 2 });
      expect(received?.receiveCount).toBe(delivery);
      await ports.jobsQueue.changeVisibility(received!.receiptHandle, 0);
    }
    expect(await ports.jobsQueue.receive({ maxMessages: 1 })).toEqual([]);

    // Act
    const first = await reconcileDeadLetters(Object.values(consumers), deps());
    const second = await reconcileDeadLetters(Object.values(consumers), deps());

    // Assert
    expect([first, second]).toEqual([1, 0]);
    expect(alerts).toHaveLength(1);
    expect(JSON.parse(alerts[0]!.message)).toMatchObject({ kind: 'dead-lettered', queue: 'jobs', attempts: 3 });
    expect(await ports.jobsTable.get({ pk: `JOB#${jobId}`, sk: 'JOB' })).toMatchObject({ status: 'failed', error: expect.stringContaining('worker stopped') });
  });

  it('does not alert again on a message whose last attempt failed in the handler', async () => {
    const message = { jobId: '6e1f3a52-46f4-4d3b-9c2e-1a2b3c4d5e6f', task: 'fail', data: { message: 'boom' }, createdAt: new Date().toISOString() };
    await ports.jobsQueue.send([{ body: JSON.stringify(message) }]);
    for (let delivery = 1; delivery <= 3; delivery++) {
      const batch = await ports.jobsQueue.receive({ maxMessages: 1, waitTimeSeconds: 2 });
      await processBatch(batch, consumers.jobs.handler, consumers.jobs.policy);
    }
    expect(await ports.jobsQueue.receive({ maxMessages: 1 })).toEqual([]);

    expect(await reconcileDeadLetters(Object.values(consumers), deps())).toBe(0);
    expect(alerts).toHaveLength(1);
  });

  it('does not lose the alert when publishing it fails: the claim is given back and the next pass alerts', async () => {
    // Arrange: a job whose last attempt fails while the alerts topic is down.
    const message = { jobId: '7f1f3a52-46f4-4d3b-9c2e-1a2b3c4d5e6f', task: 'fail', data: { message: 'boom' }, createdAt: new Date().toISOString() };
    let topicDown = true;
    const flaky: Topic = { name: 'alerts', publish: async (n) => (topicDown ? Promise.reject(new Error('topic down')) : (alerts.push(n), 'id')) };
    const policy = { ...consumers.jobs.policy, alerts: flaky };
    await ports.jobsQueue.send([{ body: JSON.stringify(message) }]);
    for (let delivery = 1; delivery <= 3; delivery++) {
      const batch = await ports.jobsQueue.receive({ maxMessages: 1, waitTimeSeconds: 3 });
      await processBatch(batch, consumers.jobs.handler, policy);
    }
    // The failed publish also skipped the early visibility reset: the message reaches the DLQ when its visibility lapses.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect(await ports.jobsQueue.receive({ maxMessages: 1 })).toEqual([]);
    await expect(reconcileDeadLetters(Object.values(consumers), { ...deps(), alerts: flaky })).rejects.toThrow('topic down');
    expect(alerts).toEqual([]);

    // Act: the topic is back.
    topicDown = false;
    const reconciled = await reconcileDeadLetters(Object.values(consumers), { ...deps(), alerts: flaky });

    // Assert: one alert, and only one.
    expect(reconciled).toBe(1);
    expect(await reconcileDeadLetters(Object.values(consumers), { ...deps(), alerts: flaky })).toBe(0);
    expect(alerts.map((a) => JSON.parse(a.message) as { messageId: string; queue: string })).toEqual([expect.objectContaining({ queue: 'jobs' })]);
  });
});
