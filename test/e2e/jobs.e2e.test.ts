import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, getJson, postJson, startTestSpool, type TestSpool } from '../support/local-spool.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const isTerminal = (r: { body: Record<string, unknown> }) => r.body['status'] === 'completed' || r.body['status'] === 'failed';

describe('Jobs API over HTTP (the recipe requests, verbatim)', () => {
  let spool: TestSpool;
  beforeAll(async () => {
    spool = await startTestSpool();
  });
  afterAll(async () => spool.dispose());

  it('accepts {"task": "process_data", "data": {"input": "test data"}} with 202, an id and a Location, then completes it', async () => {
    const submitted = await postJson(`${spool.url}/submit`, { task: 'process_data', data: { input: 'test data' } });

    expect(submitted.status).toBe(202);
    expect(submitted.body).toEqual({ jobId: expect.stringMatching(UUID), status: 'queued', createdAt: expect.any(String) });
    const jobId = String(submitted.body['jobId']);
    expect(submitted.headers.get('location')).toBe(`/status/${jobId}`);

    const done = await eventually(() => getJson(`${spool.url}/status/${jobId}`), isTerminal);
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({ jobId, task: 'process_data', status: 'completed', attempts: 1, resultUrl: `/jobs/${jobId}/result` });
    expect(done.body['result']).toMatchObject({ normalized: 'test data', wordCount: 2, charCount: 9, lineCount: 1 });
    expect(Date.parse(String(done.body['updatedAt']))).toBeGreaterThanOrEqual(Date.parse(String(done.body['createdAt'])));

    const result = await getJson(`${spool.url}/jobs/${jobId}/result`);
    expect(result.status).toBe(200);
    expect(result.body).toMatchObject({ jobId, task: 'process_data', output: { wordCount: 2, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) } });
  });

  it('accepts {"data": "test payload"} without a task as process_data', async () => {
    const submitted = await postJson(`${spool.url}/submit`, { data: 'test payload' });
    expect(submitted.status).toBe(202);
    const done = await eventually(() => getJson(`${spool.url}/status/${String(submitted.body['jobId'])}`), isTerminal);
    expect(done.body).toMatchObject({ task: 'process_data', status: 'completed', result: { normalized: 'test payload', wordCount: 2 } });
  });

  it('serves POST /jobs and GET /jobs/{id} as the same endpoints', async () => {
    const submitted = await postJson(`${spool.url}/jobs`, { task: 'echo', data: { hello: 'world' } });
    expect(submitted.status).toBe(202);
    const done = await eventually(() => getJson(`${spool.url}/jobs/${String(submitted.body['jobId'])}`), isTerminal);
    expect(done.body).toMatchObject({ task: 'echo', status: 'completed', result: { hello: 'world' } });
  });

  it('answers 404 JSON for a job id never accepted, and for a result not written yet', async () => {
    const missing = await getJson(`${spool.url}/status/4b1f3a52-46f4-4d3b-9c2e-1a2b3c4d5e6f`);
    expect(missing).toMatchObject({ status: 404, body: { error: { code: 'not_found' } } });
    const delayed = await postJson(`${spool.url}/submit`, { task: 'echo', data: 1, delaySeconds: 30 });
    const noResult = await getJson(`${spool.url}/jobs/${String(delayed.body['jobId'])}/result`);
    expect(noResult).toMatchObject({ status: 404, body: { error: { code: 'not_found' } } });
  });

  it('keeps a delayed job queued until its delay has passed', async () => {
    const submitted = await postJson(`${spool.url}/submit`, { task: 'echo', data: 'later', delaySeconds: 1 });
    const jobId = String(submitted.body['jobId']);
    expect((await getJson(`${spool.url}/status/${jobId}`)).body['status']).toBe('queued');
    const done = await eventually(() => getJson(`${spool.url}/status/${jobId}`), isTerminal, 5000);
    expect(done.body['status']).toBe('completed');
    expect(Date.parse(String(done.body['updatedAt'])) - Date.parse(String(done.body['createdAt']))).toBeGreaterThanOrEqual(900);
  });

  it('lists jobs by status newest first, page by page with a cursor', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(String((await postJson(`${spool.url}/jobs`, { task: 'sleep', data: { ms: 0 } })).body['jobId']));
    await eventually(() => Promise.all(ids.map((id) => getJson(`${spool.url}/jobs/${id}`))), (all) => all.every(isTerminal));

    const first = await getJson(`${spool.url}/jobs?status=completed&limit=3`);
    const second = await getJson(`${spool.url}/jobs?status=completed&limit=3&cursor=${String(first.body['cursor'])}`);

    const listed = [...(first.body['items'] as Array<{ jobId: string; createdAt: string }>), ...(second.body['items'] as Array<{ jobId: string; createdAt: string }>)];
    expect(listed.map((j) => j.createdAt)).toEqual([...listed.map((j) => j.createdAt)].sort().reverse());
    expect(listed.slice(0, 5).map((j) => j.jobId)).toEqual([...ids].reverse());
  });

  it('returns the same job for a repeated Idempotency-Key and body (200), and 409 for another body', async () => {
    const key = { 'Idempotency-Key': 'order-42-attempt' };
    const first = await postJson(`${spool.url}/submit`, { task: 'echo', data: { n: 1 } }, key);
    const again = await postJson(`${spool.url}/submit`, { data: { n: 1 }, task: 'echo' }, key);
    const other = await postJson(`${spool.url}/submit`, { task: 'echo', data: { n: 2 } }, key);

    expect(first.status).toBe(202);
    expect(again.status).toBe(200);
    expect(again.body['jobId']).toBe(first.body['jobId']);
    expect(other).toMatchObject({ status: 409, body: { error: { code: 'conflict' } } });
  });

  it('serves the health, the OpenAPI document and the API reference', async () => {
    const health = await getJson(`${spool.url}/health`);
    expect(health).toMatchObject({ status: 200, body: { status: 'ok', version: expect.any(String), uptimeSeconds: expect.any(Number), checks: { sqlite: { status: 'ok' } } } });
    const openapi = await getJson(`${spool.url}/openapi.json`);
    expect(openapi.status).toBe(200);
    expect(Object.keys(openapi.body['paths'] as object)).toEqual(expect.arrayContaining(['/submit', '/status/{jobId}', '/orders', '/orders/{orderId}', '/health']));
    const docs = await fetch(`${spool.url}/docs`);
    expect(docs.status).toBe(200);
    expect(await docs.text()).toContain('/openapi.json');
  });

  it('writes each result document once, as JSON files under the data dir', async () => {
    const submitted = await postJson(`${spool.url}/submit`, { task: 'echo', data: 'file' });
    const jobId = String(submitted.body['jobId']);
    await eventually(() => getJson(`${spool.url}/status/${jobId}`), isTerminal);
    const raw = readFileSync(join(spool.dataDir, 'objects', 'results', 'results', `${jobId}.json.obj`), 'utf8');
    expect(raw.split('\n')[1]).toContain('"output":"file"');
  });
});
