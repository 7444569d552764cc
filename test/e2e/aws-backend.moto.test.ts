import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createPorts } from '../../src/runtime/create-ports.js';
import { startLocalServer, type LocalServer } from '../../src/runtime/local/server.js';
import { createAwsResources } from '../../scripts/aws-resources.js';
import { eventually, getJson, postJson } from '../support/local-spool.js';
import { startMoto, type MotoServer } from '../support/moto.js';

describe('npm start with SPOOL_BACKEND=aws (against moto)', () => {
  let moto: MotoServer;
  let server: LocalServer;
  beforeAll(async () => {
    moto = await startMoto();
    const env = await createAwsResources({ region: 'us-east-1', endpoint: moto.endpoint, visibilitySeconds: 5 });
    const config = loadConfig({ ...env, PORT: '0', LOG_LEVEL: process.env['TEST_LOG_LEVEL'] ?? 'silent', SPOOL_RETRY_BASE_SECONDS: '0', SPOOL_CALLBACK_SECRET: 'moto-secret-0123456789' });
    server = await startLocalServer(config, (logger) => createPorts(config, logger));
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
    await moto?.stop();
  });

  it('runs a job from submit to completed on SQS, DynamoDB and S3', async () => {
    const submitted = await postJson(`${server.url}/submit`, { task: 'process_data', data: { input: 'test data' } });
    expect(submitted.status).toBe(202);
    const done = await eventually(() => getJson(`${server.url}/status/${String(submitted.body['jobId'])}`), (r) => r.body['status'] === 'completed', 20_000, 200);
    expect(done.body).toMatchObject({ status: 'completed', result: { wordCount: 2 } });
  });

  it('dead-letters a failing job after 3 attempts and redrives it', async () => {
    const submitted = await postJson(`${server.url}/submit`, { task: 'fail', data: { message: 'boom' } });
    const jobId = String(submitted.body['jobId']);
    const failed = await eventually(() => getJson(`${server.url}/status/${jobId}`), (r) => r.body['status'] === 'failed', 30_000, 200);
    expect(failed.body).toMatchObject({ attempts: 3, error: 'boom' });
    const dlq = await eventually(() => getJson(`${server.url}/admin/queues/jobs/dlq`), (r) => (r.body['messages'] as unknown[]).length === 1, 20_000, 500);
    expect(JSON.parse((dlq.body['messages'] as Array<{ body: string }>)[0]!.body)).toMatchObject({ jobId });
    const redriven = await postJson(`${server.url}/admin/queues/jobs/redrive`, {});
    expect(redriven.body).toEqual({ moved: 1 });
  }, 60_000);

  it('reports the AWS backends in /health', async () => {
    const health = await getJson(`${server.url}/health`);
    expect(health.body).toMatchObject({ status: 'ok', backend: 'aws', checks: { sqs: { status: 'ok' }, dynamodb: { status: 'ok' }, s3: { status: 'ok' } } });
  });
});
