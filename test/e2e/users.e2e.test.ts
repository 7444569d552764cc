import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createEmbeddedPorts } from '../../src/runtime/embedded-ports.js';
import { createSystem } from '../../src/runtime/system.js';
import { getJson, postJson, requestJson, startTestSpool, type TestSpool } from '../support/local-spool.js';

interface UserBody {
  id: string;
  name: string;
  email: string;
  created_at: string;
  updated_at: string;
  version: number;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('Users API over HTTP (the multi-region recipe)', () => {
  let spool: TestSpool;
  beforeAll(async () => {
    spool = await startTestSpool();
  });
  afterAll(async () => spool.dispose());

  const url = (path: string) => `${spool.url}${path}`;
  /** A unique address, so tests sharing the server never collide on the unique email. */
  const email = (name = 'user') => `${name}.${randomUUID().slice(0, 8)}@example.com`;
  const createUser = async (body: { name: string; email: string }) => {
    const created = await postJson(url('/users'), body);
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    return created.body as unknown as UserBody;
  };

  it('creates {"name":"John Doe","email":"john@example.com"} with 201, then serves it by id and in the listing', async () => {
    const created = await postJson(url('/users'), { name: 'John Doe', email: 'john@example.com' });

    expect(created.status).toBe(201);
    const user = created.body as unknown as UserBody;
    expect(user).toEqual({ id: expect.stringMatching(UUID), name: 'John Doe', email: 'john@example.com', created_at: expect.any(String), updated_at: user.created_at, version: 1 });
    expect(new Date(user.created_at).toISOString()).toBe(user.created_at);
    expect(created.headers.get('location')).toBe(`/users/${user.id}`);
    expect(created.headers.get('etag')).toBe('"1"');

    const read = await getJson(url(`/users/${user.id}`));
    expect(read).toMatchObject({ status: 200, body: user });
    expect(read.headers.get('etag')).toBe('"1"');

    const list = await getJson(url('/users?limit=100'));
    expect(list.status).toBe(200);
    expect(list.body['items']).toContainEqual(user);
  });

  it('trims the name', async () => {
    const user = await createUser({ name: '  Ada Lovelace \n', email: email('ada') });
    expect(user.name).toBe('Ada Lovelace');
  });

  it('answers 409 to an email already taken in another case, and keeps one user with it', async () => {
    const address = email('grace');
    const first = await createUser({ name: 'Grace Hopper', email: address });

    const duplicate = await postJson(url('/users'), { name: 'Someone Else', email: address.toUpperCase() });

    expect(duplicate).toMatchObject({ status: 409, body: { error: { code: 'conflict', details: { field: 'email' } } } });
    const all = await listAll('/users');
    expect(all.filter((u) => u.email.toLowerCase() === address.toLowerCase())).toEqual([first]);
  });

  it('lets only one of many concurrent creations with the same email succeed', async () => {
    const address = email('race');
    const answers = await Promise.all(Array.from({ length: 8 }, (_, i) => postJson(url('/users'), { name: `Racer ${i}`, email: i % 2 === 0 ? address : address.toUpperCase() })));
    expect(answers.map((a) => a.status).sort()).toEqual([201, 409, 409, 409, 409, 409, 409, 409]);
  });

  it.each([
    ['no name', { email: 'a@example.com' }, 'name'],
    ['an empty name', { name: '', email: 'a@example.com' }, 'name'],
    ['a name of whitespace only', { name: '   ', email: 'a@example.com' }, 'name'],
    ['a name over 200 characters', { name: 'x'.repeat(201), email: 'a@example.com' }, 'name'],
    ['a numeric name', { name: 42, email: 'a@example.com' }, 'name'],
    ['no email', { name: 'Ann' }, 'email'],
    ['an email without @', { name: 'Ann', email: 'not-an-email' }, 'email'],
    ['an email without a domain', { name: 'Ann', email: 'ann@' }, 'email'],
    ['an email with spaces', { name: 'Ann', email: 'ann @example.com' }, 'email'],
    ['an empty email', { name: 'Ann', email: '' }, 'email'],
    ['an email over 254 characters', { name: 'Ann', email: `${'a'.repeat(64)}@${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(63)}.com` }, 'email'],
    ['a null email', { name: 'Ann', email: null }, 'email'],
    ['an unknown field', { name: 'Ann', email: 'ann@example.com', role: 'admin' }, 'role'],
    ['a client-chosen id', { name: 'Ann', email: 'ann@example.com', id: randomUUID() }, 'id'],
  ])('answers 400 to a user with %s, naming the field', async (_name, body, field) => {
    const before = (await listAll('/users')).length;
    const rejected = await postJson(url('/users'), body);
    expect(rejected).toMatchObject({ status: 400, body: { error: { code: 'validation_failed' } } });
    expect(JSON.stringify(rejected.body['error'])).toContain(field);
    expect((await listAll('/users')).length).toBe(before);
  });

  it('pages through users newest first with a cursor, without skipping or repeating anyone', async () => {
    const created: UserBody[] = [];
    for (let i = 0; i < 7; i++) created.push(await createUser({ name: `Pager ${i}`, email: email(`pager${i}`) }));

    const pages: UserBody[][] = [];
    let cursor: string | undefined;
    do {
      const page = await getJson(url(`/users?limit=3${cursor === undefined ? '' : `&cursor=${encodeURIComponent(cursor)}`}`));
      expect(page.status).toBe(200);
      const items = page.body['items'] as UserBody[];
      expect(items.length).toBeLessThanOrEqual(3);
      pages.push(items);
      cursor = page.body['cursor'] as string | undefined;
    } while (cursor !== undefined);

    const all = pages.flat();
    expect(new Set(all.map((u) => u.id)).size).toBe(all.length);
    expect(all).toEqual(expect.arrayContaining(created));
    expect(all).toEqual([...all].sort(newestFirst));
    // The newest come first: the users just created, in (created_at, id) descending order.
    expect(all.slice(0, created.length)).toEqual([...created].sort(newestFirst));
    expect(pages.at(-1)?.length).toBeGreaterThan(0);
  });

  it.each([
    ['limit=0'],
    ['limit=101'],
    ['limit=abc'],
    ['limit=1.5'],
    ['cursor=not-a-cursor'],
    [`cursor=${Buffer.from('["yesterday","x"]').toString('base64url')}`],
    ['sort=name'],
  ])('answers 400 to GET /users?%s', async (query) => {
    const rejected = await getJson(url(`/users?${query}`));
    expect(rejected).toMatchObject({ status: 400, body: { error: { code: expect.any(String) } } });
  });

  it('patches some fields through the transaction: version + 1, new ETag, the rest unchanged', async () => {
    const user = await createUser({ name: 'Alan Turing', email: email('alan') });

    const patched = await requestJson('PATCH', url(`/users/${user.id}`), { name: ' Alan M. Turing ' });

    expect(patched.status).toBe(200);
    expect(patched.headers.get('etag')).toBe('"2"');
    const body = patched.body as unknown as UserBody;
    expect(body).toEqual({ ...user, name: 'Alan M. Turing', updated_at: expect.any(String), version: 2 });
    expect(body.updated_at > user.updated_at).toBe(true);
    expect((await getJson(url(`/users/${user.id}`))).body).toEqual(body);
  });

  it('changes the email, also to another case of itself, and frees the old one', async () => {
    const old = email('old');
    const user = await createUser({ name: 'Mover', email: old });

    const recased = await requestJson('PATCH', url(`/users/${user.id}`), { email: old.toUpperCase() });
    expect(recased).toMatchObject({ status: 200, body: { email: old.toUpperCase(), version: 2 } });
    const fresh = email('new');
    const moved = await requestJson('PATCH', url(`/users/${user.id}`), { email: fresh });
    expect(moved).toMatchObject({ status: 200, body: { email: fresh, version: 3 } });

    await createUser({ name: 'Newcomer', email: old });
  });

  it('answers 409 to a patch onto a taken email and changes nothing', async () => {
    const taken = email('taken');
    await createUser({ name: 'Owner', email: taken });
    const user = await createUser({ name: 'Other', email: email('other') });

    const clash = await requestJson('PATCH', url(`/users/${user.id}`), { name: 'Renamed', email: taken.toUpperCase() });

    expect(clash).toMatchObject({ status: 409, body: { error: { code: 'conflict' } } });
    expect((await getJson(url(`/users/${user.id}`))).body).toEqual(user);
  });

  it('leaves the version alone when a patch changes nothing', async () => {
    const user = await createUser({ name: 'Same', email: email('same') });
    const patched = await requestJson('PATCH', url(`/users/${user.id}`), { name: 'Same', email: user.email });
    expect(patched).toMatchObject({ status: 200, body: user });
    expect(patched.headers.get('etag')).toBe('"1"');
  });

  it('honours If-Match: a stale version is 412 and changes nothing, the current one goes through', async () => {
    const user = await createUser({ name: 'Careful', email: email('careful') });
    await requestJson('PATCH', url(`/users/${user.id}`), { name: 'Careful 2' });

    const stale = await requestJson('PATCH', url(`/users/${user.id}`), { name: 'Lost' }, { 'if-match': '"1"' });
    expect(stale).toMatchObject({ status: 412, body: { error: { code: 'precondition_failed', details: { currentVersion: 2 } } } });
    expect((await getJson(url(`/users/${user.id}`))).body).toMatchObject({ name: 'Careful 2', version: 2 });

    const staleDelete = await requestJson('DELETE', url(`/users/${user.id}`), undefined, { 'if-match': '"1"' });
    expect(staleDelete.status).toBe(412);

    const current = await requestJson('PATCH', url(`/users/${user.id}`), { name: 'Careful 3' }, { 'if-match': '"2"' });
    expect(current).toMatchObject({ status: 200, body: { name: 'Careful 3', version: 3 } });
  });

  it.each([
    ['an empty object', {}],
    ['an unknown field', { nickname: 'x' }],
    ['an id', { id: randomUUID() }],
    ['a version', { version: 7 }],
    ['an invalid email', { email: 'nope' }],
    ['an empty name', { name: ' ' }],
    ['a null name', { name: null }],
  ])('answers 400 to a patch with %s', async (_name, body) => {
    const user = await createUser({ name: 'Strict', email: email('strict') });
    const rejected = await requestJson('PATCH', url(`/users/${user.id}`), body);
    expect(rejected).toMatchObject({ status: 400, body: { error: { code: 'validation_failed' } } });
    expect((await getJson(url(`/users/${user.id}`))).body).toEqual(user);
  });

  it('answers 400 to a malformed If-Match', async () => {
    const user = await createUser({ name: 'Header', email: email('header') });
    const rejected = await requestJson('PATCH', url(`/users/${user.id}`), { name: 'x' }, { 'if-match': '1' });
    expect(rejected).toMatchObject({ status: 400, body: { error: { code: 'validation_failed' } } });
  });

  it('deletes with 204; then the user is gone (404) and the email is free again', async () => {
    const address = email('leaver');
    const user = await createUser({ name: 'Leaver', email: address });

    const deleted = await requestJson('DELETE', url(`/users/${user.id}`));

    expect(deleted).toMatchObject({ status: 204, body: undefined });
    expect((await getJson(url(`/users/${user.id}`))).status).toBe(404);
    expect((await requestJson('DELETE', url(`/users/${user.id}`))).status).toBe(404);
    expect((await listAll('/users')).map((u) => u.id)).not.toContain(user.id);
    await createUser({ name: 'Successor', email: address });
  });

  it.each([
    ['GET', undefined],
    ['PATCH', { name: 'x' }],
    ['DELETE', undefined],
  ])('answers 404 to %s of an unknown id and 400 to an id that is not a UUID', async (method, body) => {
    const missing = await requestJson(method, url(`/users/${randomUUID()}`), body);
    expect(missing).toMatchObject({ status: 404, body: { error: { code: 'not_found' } } });
    const invalid = await requestJson(method, url('/users/not-a-uuid'), body);
    expect(invalid).toMatchObject({ status: 400, body: { error: { code: 'validation_failed' } } });
  });

  it('reports the SQL store in /health and documents the routes', async () => {
    const health = await getJson(url('/health'));
    expect(health).toMatchObject({ status: 200, body: { status: 'ok', checks: { sql: { status: 'ok' } } } });
    const openapi = await getJson(url('/openapi.json'));
    expect(Object.keys(openapi.body['paths'] as object)).toEqual(expect.arrayContaining(['/users', '/users/{id}']));
  });

  async function listAll(path: string): Promise<UserBody[]> {
    const all: UserBody[] = [];
    let cursor: string | undefined;
    do {
      const page = await getJson(url(`${path}?limit=100${cursor === undefined ? '' : `&cursor=${encodeURIComponent(cursor)}`}`));
      expect(page.status).toBe(200);
      all.push(...(page.body['items'] as UserBody[]));
      cursor = page.body['cursor'] as string | undefined;
    } while (cursor !== undefined);
    return all;
  }
});

describe('Users API without a SQL store', () => {
  it('answers 503 sql_not_configured on every users route, before validating the request', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'spool-nosql-'));
    const logger = pino({ level: 'silent' });
    const config = loadConfig({ SPOOL_DATA_DIR: dataDir, LOG_LEVEL: 'silent' });
    const ports = createEmbeddedPorts(config, logger);
    try {
      const { app } = createSystem(config, { ...ports, sql: undefined }, logger);
      const json = { 'content-type': 'application/json' };
      const answers = await Promise.all([
        app.request('/users'),
        app.request(`/users/${randomUUID()}`),
        app.request('/users', { method: 'POST', headers: json, body: JSON.stringify({ name: 'John Doe', email: 'john@example.com' }) }),
        app.request('/users', { method: 'POST', headers: json, body: '{"bad":' }),
        app.request(`/users/${randomUUID()}`, { method: 'DELETE' }),
        app.request('/tasks'),
        app.request(`/tasks/${randomUUID()}/activity`),
      ]);
      for (const answer of answers) {
        expect(answer.status).toBe(503);
        expect(await answer.json()).toMatchObject({ error: { code: 'sql_not_configured', message: expect.any(String) } });
      }
      expect((await app.request('/orders/not-a-uuid')).status).toBe(400);
    } finally {
      await ports.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

function newestFirst(a: UserBody, b: UserBody): number {
  if (a.created_at !== b.created_at) return a.created_at < b.created_at ? 1 : -1;
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}
