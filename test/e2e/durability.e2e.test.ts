import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startChildSpool, type ChildSpool } from '../support/child-spool.js';
import { eventually, getJson } from '../support/local-spool.js';

const post = (url: string, body: unknown) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

describe('Durability: an acknowledged request survives kill -9', () => {
  const dirs: string[] = [];
  const children: ChildSpool[] = [];
  afterEach(() => {
    for (const c of children.splice(0)) c.process.kill('SIGKILL');
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('loses no accepted job or order when the server is killed at a random moment under load', async () => {
    // Arrange: a server under a bounded load of jobs and orders from 16 concurrent clients.
    const dataDir = mkdtempSync(join(tmpdir(), 'spool-kill-'));
    dirs.push(dataDir);
    // In-flight messages of the killed process come back after their visibility timeout, as in SQS: keep it short.
    const env = { SPOOL_JOBS_VISIBILITY_SECONDS: '2', SPOOL_ORDERS_VISIBILITY_SECONDS: '2' };
    const first = await startChildSpool(dataDir, env);
    children.push(first);
    const jobs = new Set<string>();
    const orders = new Set<string>();
    let running = true;
    const client = async (n: number) => {
      for (let i = 0; running && i < 5000; i++) {
        try {
          if ((i + n) % 2 === 0) {
            const r = await post(`${first.url}/submit`, { task: 'echo', data: { n, i } });
            if (r.status === 202) jobs.add(String(((await r.json()) as { jobId: string }).jobId));
          } else {
            const r = await post(`${first.url}/orders`, { amount: 10.5, currency: 'EUR' });
            if (r.status === 202) orders.add(String(((await r.json()) as { orderId: string }).orderId));
          }
        } catch {
          return; // the server is gone
        }
      }
    };
    const load = Promise.all(Array.from({ length: 16 }, (_, n) => client(n)));

    // Act: kill -9 at a random moment between 0.4 and 1.4 s into the load, then restart on the same data.
    await new Promise((r) => setTimeout(r, 400 + Math.random() * 1000));
    first.process.kill('SIGKILL');
    expect(await first.exited).toBe('SIGKILL');
    running = false;
    await load;
    const second = await startChildSpool(dataDir, env);
    children.push(second);

    // Assert: every acknowledged job completes and every acknowledged order is confirmed.
    expect(jobs.size + orders.size).toBeGreaterThan(50);
    const unfinished = async () => {
      const j = await Promise.all([...jobs].map(async (id) => (await getJson(`${second.url}/status/${id}`)).body['status']));
      const o = await Promise.all([...orders].map(async (id) => (await getJson(`${second.url}/orders/${id}`)).body['status']));
      return j.filter((s) => s !== 'completed').length + o.filter((s) => s !== 'confirmed').length;
    };
    expect(await eventually(unfinished, (n) => n === 0, 30_000, 200)).toBe(0);
    // Each completed job has exactly one result document, and no half-written temp file remains visible as a result.
    const results = new Set(readdirSync(join(dataDir, 'objects', 'results', 'results')).map((f) => f.replace('.json.obj', '')));
    for (const id of jobs) expect(results.has(id)).toBe(true);
  }, 60_000);

  it('on SIGTERM stops accepting, finishes the in-flight job and exits 0', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'spool-term-'));
    dirs.push(dataDir);
    const server = await startChildSpool(dataDir);
    children.push(server);
    const submitted = (await (await post(`${server.url}/submit`, { task: 'sleep', data: { ms: 1500 } })).json()) as { jobId: string };
    await eventually(() => getJson(`${server.url}/status/${submitted.jobId}`), (r) => r.body['status'] === 'processing', 5000);

    server.process.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 200));
    await expect(post(`${server.url}/submit`, { task: 'echo' })).rejects.toThrow();
    expect(await server.exited).toBe(0);

    const restarted = await startChildSpool(dataDir);
    children.push(restarted);
    expect((await getJson(`${restarted.url}/status/${submitted.jobId}`)).body).toMatchObject({ status: 'completed', attempts: 1 });
  });
});
