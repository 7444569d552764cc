import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { APIGatewayProxyResult, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { handle } from 'hono/aws-lambda';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createEmbeddedPorts } from '../../src/runtime/embedded-ports.js';
import { createSqsHandler } from '../../src/runtime/lambda/sqs-handler.js';
import { createSystem, type System } from '../../src/runtime/system.js';
import { httpApiEvent, restApiEvent, sqsEvent, sqsRecord } from './fixtures.js';

const context = { getRemainingTimeInMillis: () => 30_000 } as unknown as Context;

describe('Lambda entry points adapt AWS events to the same app and handlers', () => {
  let dir: string;
  let system: System;
  // hono's event types differ slightly from @types/aws-lambda's; the runtime shape is the same.
  let api: (event: unknown, context: Context) => Promise<unknown>;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'spool-lambda-'));
    const config = loadConfig({ SPOOL_DATA_DIR: dir, SPOOL_ALERT_SUBSCRIBERS: '' });
    system = createSystem(config, createEmbeddedPorts(config, pino({ level: 'silent' })), pino({ level: 'silent' }));
    // Migrations are a deploy step on AWS; /health probes the SQL schema, so create it here.
    await system.ports.sql?.migrate();
    api = handle(system.app) as (event: unknown, context: Context) => Promise<unknown>;
  });
  afterAll(async () => {
    await system.ports.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves POST /submit from an HTTP API (payload 2.0) event', async () => {
    const response = (await api(httpApiEvent('POST', '/submit', { task: 'echo', data: 1 }), context)) as APIGatewayProxyStructuredResultV2;
    expect(response.statusCode).toBe(202);
    expect(JSON.parse(response.body!)).toMatchObject({ status: 'queued' });
    expect(response.headers?.['location']).toMatch(/^\/status\//);
  });

  it('serves GET /health from a REST API (payload 1.0) proxy event', async () => {
    const response = (await api(restApiEvent('GET', '/health'), context)) as APIGatewayProxyResult;
    expect(response.statusCode).toBe(200);
    expect(JSON.parse(response.body)).toMatchObject({ status: 'ok', backend: 'embedded' });
  });

  it('answers a malformed body in an event with a 400 JSON error, not a crash', async () => {
    const event = { ...httpApiEvent('POST', '/orders'), body: '{"amount":' };
    const response = (await api(event, context)) as APIGatewayProxyStructuredResultV2;
    expect(response.statusCode).toBe(400);
    expect(JSON.parse(response.body!)).toMatchObject({ error: { code: 'bad_request' } });
  });

  it('reports only the poison record of an SQS batch in batchItemFailures', async () => {
    const handler = createSqsHandler(system.consumers.orders);
    const good = { orderId: '0f8fad5b-d9cb-469f-a165-70867728950e', amount: 5, currency: 'EUR', createdAt: new Date().toISOString() };
    const event = sqsEvent(sqsRecord('m-good', JSON.stringify(good)), sqsRecord('m-poison', '{not json'), sqsRecord('m-wrong', '{"orderId":1}'));

    const response = await handler(event, context);

    expect(response.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(['m-poison', 'm-wrong']);
    expect(await system.ports.ordersTable.get({ pk: `ORDER#${good.orderId}`, sk: 'ORDER' })).toMatchObject({ status: 'confirmed' });
  });

  it('processes a job record from an SQS event end to end', async () => {
    const handler = createSqsHandler(system.consumers.jobs);
    const job = { jobId: '2c1f3a52-46f4-4d3b-9c2e-1a2b3c4d5e6f', task: 'process_data', data: 'hello world', createdAt: new Date().toISOString() };

    const response = await handler(sqsEvent(sqsRecord('m-job', JSON.stringify(job))), context);

    expect(response.batchItemFailures).toEqual([]);
    const status = (await api(httpApiEvent('GET', `/status/${job.jobId}`), context)) as APIGatewayProxyStructuredResultV2;
    expect(JSON.parse(status.body!)).toMatchObject({ status: 'completed', result: { wordCount: 2 } });
  });
});
