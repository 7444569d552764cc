import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sign, SIGNATURE_HEADER, DELIVERY_HEADER } from '../../src/workers/callback-delivery.js';
import { eventually, getJson, postJson, startTestSpool, type TestSpool } from '../support/local-spool.js';

interface Alert {
  subject: string;
  message: string;
}

const alertsIn = (spool: TestSpool): Alert[] => {
  const path = join(spool.dataDir, 'alerts.jsonl');
  return existsSync(path) ? readFileSync(path, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Alert) : [];
};

describe('Failing jobs: retries, dead-letter queue, alerts, redrive', () => {
  let spool: TestSpool;
  beforeAll(async () => {
    spool = await startTestSpool({ SPOOL_JOBS_MAX_RECEIVE_COUNT: '3', SPOOL_ALERT_SUBSCRIBERS: 'outbox' });
  });
  afterAll(async () => spool.dispose());

  it('retries a failing job, marks it failed with the error, dead-letters it with exactly one alert, and runs it again on redrive', async () => {
    // Act: a job that always throws.
    const submitted = await postJson(`${spool.url}/submit`, { task: 'fail', data: { message: 'boom' } });
    const jobId = String(submitted.body['jobId']);

    // Assert: three attempts, then failed with the error.
    const failed = await eventually(() => getJson(`${spool.url}/status/${jobId}`), (r) => r.body['status'] === 'failed');
    expect(failed.body).toMatchObject({ status: 'failed', attempts: 3, error: 'boom' });

    // ...the message lands in the DLQ, visible to a peek that does not consume it.
    const dlq = await eventually(() => getJson(`${spool.url}/admin/queues/jobs/dlq`), (r) => (r.body['messages'] as unknown[]).length === 1);
    const [dead] = dlq.body['messages'] as Array<{ body: string; receiveCount: number }>;
    expect(JSON.parse(dead!.body)).toMatchObject({ jobId, task: 'fail' });
    expect((await getJson(`${spool.url}/admin/queues/jobs/dlq`)).body['messages']).toHaveLength(1);
    const stats = await getJson(`${spool.url}/admin/queues`);
    expect((stats.body['queues'] as Array<{ name: string; deadLetters: number }>).find((q) => q.name === 'jobs')?.deadLetters).toBe(1);

    // ...and exactly one alert names it.
    await new Promise((r) => setTimeout(r, 300));
    const alerts = alertsIn(spool).filter((a) => a.message.includes(jobId));
    expect(alerts).toHaveLength(1);
    expect(JSON.parse(alerts[0]!.message)).toMatchObject({ kind: 'dead-lettered', queue: 'jobs', attempts: 3, error: 'boom' });

    // Redrive: the job runs again (three more attempts), is dead-lettered again, one more alert.
    const redriven = await postJson(`${spool.url}/admin/queues/jobs/redrive`, {});
    expect(redriven).toMatchObject({ status: 200, body: { moved: 1 } });
    await eventually(() => Promise.resolve(alertsIn(spool).filter((a) => a.message.includes(jobId)).length), (n) => n === 2);
    const again = await eventually(() => getJson(`${spool.url}/admin/queues/jobs/dlq`), (r) => (r.body['messages'] as unknown[]).length === 1);
    expect(again.body['messages']).toHaveLength(1);
    expect((await getJson(`${spool.url}/status/${jobId}`)).body).toMatchObject({ status: 'failed', attempts: 3 });
  });

  it('answers 404 for the DLQ of an unknown queue', async () => {
    const unknown = await getJson(`${spool.url}/admin/queues/nope/dlq`);
    expect(unknown).toMatchObject({ status: 404, body: { error: { code: 'not_found' } } });
  });
});

describe('Job callbacks', () => {
  let spool: TestSpool;
  let receiver: Server;
  let url: string;
  const received: Array<{ headers: IncomingMessage['headers']; body: string }> = [];
  let refuseFirst = true;

  beforeAll(async () => {
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        // The first delivery is refused, to prove callbacks are retried.
        if (refuseFirst) {
          refuseFirst = false;
          res.writeHead(503).end();
          return;
        }
        received.push({ headers: req.headers, body });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    spool = await startTestSpool({ SPOOL_CALLBACK_SECRET: 'test-secret-0123456789' });
  });
  afterAll(async () => {
    await spool.dispose();
    receiver.close();
  });

  it('POSTs the final status, signed with HMAC-SHA256 over the body, retrying a refused delivery', async () => {
    const submitted = await postJson(`${spool.url}/submit`, { task: 'echo', data: 'hi', callbackUrl: url });
    const jobId = String(submitted.body['jobId']);

    await eventually(() => Promise.resolve(received.length), (n) => n > 0, 10_000);

    const [delivery] = received;
    expect(JSON.parse(delivery!.body)).toMatchObject({ jobId, status: 'completed', result: 'hi' });
    expect(delivery!.headers[SIGNATURE_HEADER]).toBe(sign('test-secret-0123456789', delivery!.body));
    expect(delivery!.headers[DELIVERY_HEADER]).toBe(`${jobId}:completed`);
  });
});
