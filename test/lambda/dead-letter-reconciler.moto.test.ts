import { mkdirSync, rmSync, statSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DeleteTableCommand } from '@aws-sdk/client-dynamodb';
import { SubscribeCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, DeleteMessageCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDynamoDbClient, createSnsClient, createSqsClient } from '../../src/adapters/aws/clients.js';
import { DynamoTable } from '../../src/adapters/aws/dynamodb-table.js';
import type { ReconcileResult } from '../../src/runtime/lambda/dead-letter-reconciler.js';
import { claimDeadLetterAlert } from '../../src/workers/dead-letter-ledger.js';
import { createAwsResources } from '../../scripts/aws-resources.js';
import { startMoto, type MotoServer } from '../support/moto.js';
import { httpApiEvent } from './fixtures.js';

// Inside the repo so that `@aws-sdk/*`, left external as on Lambda, resolves from node_modules.
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const OUT = join(ROOT, 'node_modules', '.cache', 'spool-reconciler-bundle');
const BUNDLE = join(OUT, 'dead-letter-reconciler.mjs');
const REGION = 'us-east-1';
const context = { getRemainingTimeInMillis: () => 30_000 } as unknown as Context;
/** What an EventBridge Scheduler tick passes (the entry ignores it). */
const TICK = {};

type ApiHandler = (event: unknown, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;
type ReconcileHandler = (event: unknown) => Promise<ReconcileResult>;

describe('The dead-letter-reconciler bundle, run in-process against moto', () => {
  let moto: MotoServer;
  let env: Record<string, string>;
  let api: ApiHandler;
  let reconcile: ReconcileHandler;
  let alertsTap: string;
  const sqs = () => createSqsClient({ region: REGION, endpoint: moto.endpoint });

  beforeAll(async () => {
    moto = await startMoto();
    env = await createAwsResources({ region: REGION, endpoint: moto.endpoint, visibilitySeconds: 30 });
    Object.assign(process.env, env, { LOG_LEVEL: 'silent', SPOOL_CALLBACK_SECRET: 'reconciler-test-secret-0123' });
    // Every alert, as a subscriber sees it: an SQS queue subscribed to the alerts topic (raw delivery).
    const tap = await sqs().send(new CreateQueueCommand({ QueueName: `${env['SPOOL_JOBS_TABLE']}-alerts-tap` }));
    alertsTap = tap.QueueUrl!;
    const tapArn = await sqs().send(new GetQueueAttributesCommand({ QueueUrl: alertsTap, AttributeNames: ['QueueArn'] }));
    await createSnsClient({ region: REGION, endpoint: moto.endpoint }).send(
      new SubscribeCommand({
        TopicArn: env['SPOOL_ALERTS_TOPIC_ARN'],
        Protocol: 'sqs',
        Endpoint: tapArn.Attributes!['QueueArn'],
        Attributes: { RawMessageDelivery: 'true' },
      }),
    );

    rmSync(OUT, { recursive: true, force: true });
    mkdirSync(OUT, { recursive: true });
    await build({
      entryPoints: [join(ROOT, 'src/runtime/lambda/dead-letter-reconciler.ts')],
      bundle: true,
      minify: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      external: ['@aws-sdk/*'],
      outdir: OUT,
      outExtension: { '.js': '.mjs' },
      banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
      logLevel: 'error',
    });
    reconcile = ((await import(BUNDLE)) as { handler: ReconcileHandler }).handler;
    // The API (HTTP code: in the test process, not in the bundle under test) submits and reads jobs.
    api = ((await import('../../src/runtime/lambda/api.js')) as { handler: ApiHandler }).handler;
  }, 120_000);
  afterAll(async () => {
    await moto?.stop();
    rmSync(OUT, { recursive: true, force: true });
  });

  async function depth(queueUrl: string): Promise<number> {
    const { Attributes = {} } = await sqs().send(
      new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
    );
    return Number(Attributes.ApproximateNumberOfMessages ?? 0) + Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0);
  }

  /** Everything in a queue now, deleted as read. */
  async function drain(queueUrl: string): Promise<string[]> {
    const bodies: string[] = [];
    for (;;) {
      const { Messages = [] } = await sqs().send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
      if (Messages.length === 0) return bodies;
      for (const m of Messages) {
        bodies.push(m.Body!);
        await sqs().send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle! }));
      }
    }
  }

  /**
   * A worker that dies during every delivery: each receive starts an attempt that never ends
   * (no delete, no failure recorded), until SQS's redrive moves the message to the DLQ.
   */
  async function dieOnEveryDelivery(queueUrl: string, dlqUrl: string): Promise<void> {
    for (let receives = 0; (await depth(dlqUrl)) === 0; receives++) {
      if (receives > 10) throw new Error('the message never reached the DLQ');
      await sqs().send(
        new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 1, VisibilityTimeout: 0, MessageSystemAttributeNames: ['ApproximateReceiveCount'] }),
      );
    }
  }

  it('builds a small bundle without HTTP code', () => {
    expect(statSync(BUNDLE).size).toBeGreaterThan(1000);
    expect(statSync(BUNDLE).size).toBeLessThan(400_000);
    expect(readFileSync(BUNDLE, 'utf8').toLowerCase()).not.toContain('hono');
  });

  it('alerts once on a job dead-lettered without a recorded failure, fails the job and sends its callback; a second run does nothing', async () => {
    const submitted = await api(httpApiEvent('POST', '/submit', { task: 'echo', data: 'lost', callbackUrl: 'https://hooks.example.com/spool' }), context);
    expect(submitted.statusCode).toBe(202);
    const { jobId } = JSON.parse(submitted.body!) as { jobId: string };
    await dieOnEveryDelivery(env['SPOOL_JOBS_QUEUE_URL']!, env['SPOOL_JOBS_DLQ_URL']!);
    expect(JSON.parse((await api(httpApiEvent('GET', `/status/${jobId}`), context)).body!)).toMatchObject({ status: 'queued' });

    // An orders message whose last attempt did fail: the failing worker claimed its alert already.
    const recorded = await sqs().send(new SendMessageCommand({ QueueUrl: env['SPOOL_ORDERS_DLQ_URL'], MessageBody: '{"not":"an order"}' }));
    const ledger = new DynamoTable({ client: createDynamoDbClient({ region: REGION, endpoint: moto.endpoint }), name: 'jobs', tableName: env['SPOOL_JOBS_TABLE']! });
    expect(await claimDeadLetterAlert(ledger, 'orders', recorded.MessageId!, { now: () => Date.now() })).toBe(true);

    expect(await reconcile(TICK)).toEqual({ reconciled: 1 });

    const alerts = (await drain(alertsTap)).map((body) => JSON.parse(body) as Record<string, unknown>);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ kind: 'dead-lettered', queue: 'jobs', attempts: expect.any(Number) });
    expect(JSON.parse(alerts[0]!['body'] as string)).toMatchObject({ jobId });
    const status = JSON.parse((await api(httpApiEvent('GET', `/status/${jobId}`), context)).body!) as Record<string, unknown>;
    expect(status).toMatchObject({ jobId, status: 'failed' });
    expect(String(status['error'])).toMatch(/worker stopped/);
    const callbacks = await drain(env['SPOOL_CALLBACKS_QUEUE_URL']!);
    expect(callbacks).toHaveLength(1);
    expect(callbacks[0]).toContain(jobId);
    // The dead letters stay for an operator to inspect and redrive.
    expect(await depth(env['SPOOL_JOBS_DLQ_URL']!)).toBe(1);

    expect(await reconcile(TICK)).toEqual({ reconciled: 0 });
    expect(await drain(alertsTap)).toEqual([]);
    expect(await drain(env['SPOOL_CALLBACKS_QUEUE_URL']!)).toEqual([]);
    expect(JSON.parse((await api(httpApiEvent('GET', `/status/${jobId}`), context)).body!)).toMatchObject({ status: 'failed' });
  }, 60_000);

  it('throws when a run fails, so the invocation counts as an error (runs last: it deletes the jobs table)', async () => {
    await sqs().send(new SendMessageCommand({ QueueUrl: env['SPOOL_CALLBACKS_DLQ_URL'], MessageBody: '{"url":"https://hooks.example.com/x"}' }));
    await createDynamoDbClient({ region: REGION, endpoint: moto.endpoint }).send(new DeleteTableCommand({ TableName: env['SPOOL_JOBS_TABLE'] }));
    await expect(reconcile(TICK)).rejects.toThrow();
    expect(await drain(alertsTap)).toEqual([]);
  }, 60_000);
});
