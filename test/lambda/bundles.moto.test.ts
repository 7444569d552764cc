import { mkdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyStructuredResultV2, Context, SQSEvent } from 'aws-lambda';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSqsClient } from '../../src/adapters/aws/clients.js';
import type { BatchResponse } from '../../src/workers/queue-record.js';
import { createAwsResources } from '../../scripts/aws-resources.js';
import { startMoto, type MotoServer } from '../support/moto.js';
import { httpApiEvent, sqsEvent, sqsRecord } from './fixtures.js';

// Bundles live inside the repo so that `@aws-sdk/*`, left external as on Lambda, resolves from node_modules.
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const OUT = join(ROOT, 'node_modules', '.cache', 'spool-lambda-bundles');
const ENTRIES = ['api', 'jobs-worker', 'orders-worker', 'callbacks-worker'] as const;
const context = { getRemainingTimeInMillis: () => 30_000 } as unknown as Context;

type ApiHandler = (event: unknown, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;
type SqsHandler = (event: SQSEvent, context: Context) => Promise<BatchResponse>;

describe('The built Lambda bundles, run in-process against moto', () => {
  let moto: MotoServer;
  let env: Record<string, string>;
  let api: ApiHandler;
  let jobsWorker: SqsHandler;
  let ordersWorker: SqsHandler;

  beforeAll(async () => {
    moto = await startMoto();
    env = await createAwsResources({ region: 'us-east-1', endpoint: moto.endpoint, visibilitySeconds: 30 });
    Object.assign(process.env, env, { LOG_LEVEL: 'silent', SPOOL_CALLBACK_SECRET: 'bundle-test-secret-0123' });
    rmSync(OUT, { recursive: true, force: true });
    mkdirSync(OUT, { recursive: true });
    await build({
      entryPoints: ENTRIES.map((e) => join(ROOT, 'src/runtime/lambda', `${e}.ts`)),
      bundle: true,
      minify: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      external: ['@aws-sdk/*'],
      outdir: OUT,
      outExtension: { '.js': '.mjs' },
      // Some dependencies still call require(); give the ESM bundle one, as the CDK bundling does.
      banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
      logLevel: 'error',
    });
    api = ((await import(join(OUT, 'api.mjs'))) as { handler: ApiHandler }).handler;
    jobsWorker = ((await import(join(OUT, 'jobs-worker.mjs'))) as { handler: SqsHandler }).handler;
    ordersWorker = ((await import(join(OUT, 'orders-worker.mjs'))) as { handler: SqsHandler }).handler;
  }, 120_000);
  afterAll(async () => {
    await moto?.stop();
    rmSync(OUT, { recursive: true, force: true });
  });

  /** What the SQS event source would hand the worker: the queue's next messages as an event. */
  async function nextEvent(queueUrl: string): Promise<SQSEvent> {
    const sqs = createSqsClient({ region: 'us-east-1', endpoint: moto.endpoint });
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 2, MessageSystemAttributeNames: ['ApproximateReceiveCount'] }),
    );
    return sqsEvent(...Messages.map((m) => sqsRecord(m.MessageId!, m.Body!, Number(m.Attributes?.ApproximateReceiveCount ?? 1), m.ReceiptHandle!)));
  }

  it('builds one bundle per function', () => {
    for (const entry of ENTRIES) expect(statSync(join(OUT, `${entry}.mjs`)).size).toBeGreaterThan(1000);
  });

  it('accepts a job through the API bundle, runs it in the jobs-worker bundle and serves the result', async () => {
    const submitted = await api(httpApiEvent('POST', '/submit', { task: 'process_data', data: { input: 'test data' } }), context);
    expect(submitted.statusCode).toBe(202);
    const { jobId } = JSON.parse(submitted.body!) as { jobId: string };

    const event = await nextEvent(env['SPOOL_JOBS_QUEUE_URL']!);
    expect(event.Records).toHaveLength(1);
    expect(await jobsWorker(event, context)).toEqual({ batchItemFailures: [] });

    const status = await api(httpApiEvent('GET', `/status/${jobId}`), context);
    expect(JSON.parse(status.body!)).toMatchObject({ jobId, status: 'completed', attempts: 1, result: { wordCount: 2 } });
    const result = await api(httpApiEvent('GET', `/jobs/${jobId}/result`), context);
    expect(result.statusCode).toBe(200);
    expect(JSON.parse(result.body!)).toMatchObject({ jobId, output: { normalized: 'test data' } });
  });

  it('accepts an order and confirms it in the orders-worker bundle', async () => {
    const placed = await api(httpApiEvent('POST', '/orders', { amount: 99.99, currency: 'EUR' }), context);
    expect(placed.statusCode).toBe(202);
    const { orderId } = JSON.parse(placed.body!) as { orderId: string };
    expect(await ordersWorker(await nextEvent(env['SPOOL_ORDERS_QUEUE_URL']!), context)).toEqual({ batchItemFailures: [] });
    const order = await api(httpApiEvent('GET', `/orders/${orderId}`), context);
    expect(JSON.parse(order.body!)).toMatchObject({ orderId, amount: 99.99, currency: 'EUR', status: 'confirmed' });
  });

  it('reports a poison record without failing the rest of the batch', async () => {
    const sqs = createSqsClient({ region: 'us-east-1', endpoint: moto.endpoint });
    await sqs.send(new SendMessageCommand({ QueueUrl: env['SPOOL_JOBS_QUEUE_URL'], MessageBody: 'this is not a job' }));
    await api(httpApiEvent('POST', '/submit', { task: 'echo', data: 'fine' }), context);
    const event = await nextEvent(env['SPOOL_JOBS_QUEUE_URL']!);
    while (event.Records.length < 2) event.Records.push(...(await nextEvent(env['SPOOL_JOBS_QUEUE_URL']!)).Records);

    const response = await jobsWorker(event, context);

    const poison = event.Records.find((r) => r.body === 'this is not a job')!;
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: poison.messageId }]);
  });
});
