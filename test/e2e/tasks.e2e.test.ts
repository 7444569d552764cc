import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getJson, postJson, requestJson, startTestSpool, type TestSpool } from '../support/local-spool.js';

interface TaskBody {
  id: string;
  title: string;
  description: string | null;
  status: 'todo' | 'in_progress' | 'done';
  priority: 'low' | 'medium' | 'high';
  assignee: string | null;
  created_by: string;
  due_date: string | null;
  created_at: string;
  updated_at: string;
  version: number;
}

interface ActivityBody {
  id: string;
  task_id: string;
  actor: string;
  action: 'created' | 'updated' | 'deleted' | 'commented';
  changes: Record<string, { from: unknown; to: unknown }>;
  created_at: string;
}

interface CommentBody {
  id: string;
  task_id: string;
  author: string;
  body: string;
  created_at: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('Tasks API over HTTP (the collaborative task-management recipe)', () => {
  let spool: TestSpool;
  beforeAll(async () => {
    spool = await startTestSpool();
  });
  afterAll(async () => spool.dispose());

  const url = (path: string) => `${spool.url}${path}`;
  const createTask = async (body: Record<string, unknown> = {}, headers: Record<string, string> = {}) => {
    const created = await postJson(url('/tasks'), { title: 'A task', created_by: 'alice@example.com', ...body }, headers);
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    return created.body as unknown as TaskBody;
  };
  const getTask = async (id: string) => {
    const read = await getJson(url(`/tasks/${id}`));
    expect(read.status).toBe(200);
    expect(read.headers.get('etag')).toBe(`"${String(read.body['version'])}"`);
    return read.body as unknown as TaskBody;
  };
  const patch = (id: string, body: unknown, headers: Record<string, string> = {}) => requestJson('PATCH', url(`/tasks/${id}`), body, headers);
  const activity = async (id: string) => {
    const page = await getJson(url(`/tasks/${id}/activity?limit=100`));
    expect(page.status).toBe(200);
    return page.body['items'] as ActivityBody[];
  };
  async function listAll<T>(path: string, limit = 100): Promise<T[]> {
    const all: T[] = [];
    let cursor: string | undefined;
    do {
      const separator = path.includes('?') ? '&' : '?';
      const page = await getJson(url(`${path}${separator}limit=${limit}${cursor === undefined ? '' : `&cursor=${encodeURIComponent(cursor)}`}`));
      expect(page.status, JSON.stringify(page.body)).toBe(200);
      all.push(...(page.body['items'] as T[]));
      cursor = page.body['cursor'] as string | undefined;
    } while (cursor !== undefined);
    return all;
  }

  describe('create and read', () => {
    it('creates a task with 201, defaults (todo, medium), Location and ETag "1"', async () => {
      const created = await postJson(url('/tasks'), { title: 'Test Task', created_by: 'test@example.com' });

      expect(created.status).toBe(201);
      const task = created.body as unknown as TaskBody;
      expect(task).toEqual({
        id: expect.stringMatching(UUID),
        title: 'Test Task',
        description: null,
        status: 'todo',
        priority: 'medium',
        assignee: null,
        created_by: 'test@example.com',
        due_date: null,
        created_at: expect.any(String),
        updated_at: task.created_at,
        version: 1,
      });
      expect(created.headers.get('etag')).toBe('"1"');
      expect(created.headers.get('location')).toBe(`/tasks/${task.id}`);
      expect(await getTask(task.id)).toEqual(task);
    });

    it('stores every field given', async () => {
      const task = await createTask({ title: '  Ship it  ', description: 'All of it', status: 'in_progress', priority: 'high', assignee: 'bob@example.com', due_date: '2030-12-31' });
      expect(task).toMatchObject({ title: 'Ship it', description: 'All of it', status: 'in_progress', priority: 'high', assignee: 'bob@example.com', due_date: '2030-12-31' });
      expect(await getTask(task.id)).toEqual(task);
    });

    it('takes created_by from X-Actor when the body has none, and wants one of the two', async () => {
      const created = await postJson(url('/tasks'), { title: 'By header' }, { 'x-actor': 'carol@example.com' });
      expect(created).toMatchObject({ status: 201, body: { created_by: 'carol@example.com' } });

      const anonymous = await postJson(url('/tasks'), { title: 'By nobody' });
      expect(anonymous).toMatchObject({ status: 400, body: { error: { code: 'validation_failed' } } });
      expect(JSON.stringify(anonymous.body)).toContain('created_by');
    });

    it.each([
      ['no title', { created_by: 'a' }, 'title'],
      ['an empty title', { title: '', created_by: 'a' }, 'title'],
      ['a title of whitespace only', { title: '  ', created_by: 'a' }, 'title'],
      ['a title over 200 characters', { title: 'x'.repeat(201), created_by: 'a' }, 'title'],
      ['an unknown status', { title: 't', created_by: 'a', status: 'open' }, 'status'],
      ['a status in upper case', { title: 't', created_by: 'a', status: 'TODO' }, 'status'],
      ['an unknown priority', { title: 't', created_by: 'a', priority: 'urgent' }, 'priority'],
      ['a due date that is not a date', { title: 't', created_by: 'a', due_date: 'tomorrow' }, 'due_date'],
      ['a due date in month 13', { title: 't', created_by: 'a', due_date: '2030-13-01' }, 'due_date'],
      ['a due date in another format', { title: 't', created_by: 'a', due_date: '31/12/2030' }, 'due_date'],
      ['a description over 10000 characters', { title: 't', created_by: 'a', description: 'x'.repeat(10_001) }, 'description'],
      ['an empty created_by', { title: 't', created_by: ' ' }, 'created_by'],
      ['a created_by over 254 characters', { title: 't', created_by: 'x'.repeat(255) }, 'created_by'],
      ['a numeric assignee', { title: 't', created_by: 'a', assignee: 7 }, 'assignee'],
      ['an unknown field', { title: 't', created_by: 'a', labels: ['x'] }, 'labels'],
      ['a client-chosen version', { title: 't', created_by: 'a', version: 5 }, 'version'],
    ])('answers 400 to a task with %s, naming the field', async (_name, body, field) => {
      const before = (await listAll<TaskBody>('/tasks')).length;
      const rejected = await postJson(url('/tasks'), body);
      expect(rejected).toMatchObject({ status: 400, body: { error: { code: 'validation_failed' } } });
      expect(JSON.stringify(rejected.body['error'])).toContain(field);
      expect((await listAll<TaskBody>('/tasks')).length).toBe(before);
    });

    it('answers 400 to an X-Actor over 254 characters', async () => {
      const rejected = await postJson(url('/tasks'), { title: 't' }, { 'x-actor': 'x'.repeat(255) });
      expect(rejected).toMatchObject({ status: 400, body: { error: { code: 'validation_failed' } } });
    });

    it.each([['GET'], ['PATCH'], ['DELETE']])('answers 404 to %s of an unknown id and 400 to an id that is not a UUID', async (method) => {
      const body = method === 'PATCH' ? { title: 'x' } : undefined;
      expect(await requestJson(method, url(`/tasks/${randomUUID()}`), body)).toMatchObject({ status: 404, body: { error: { code: 'not_found' } } });
      expect(await requestJson(method, url('/tasks/123'), body)).toMatchObject({ status: 400, body: { error: { code: 'validation_failed' } } });
    });
  });

  describe('update and delete', () => {
    it('patches some fields: version + 1, ETag follows, the rest unchanged; null clears an optional field', async () => {
      const task = await createTask({ description: 'old', assignee: 'bob' });

      const patched = await patch(task.id, { status: 'in_progress', description: null });

      expect(patched.status).toBe(200);
      expect(patched.headers.get('etag')).toBe('"2"');
      expect(patched.body).toEqual({ ...task, status: 'in_progress', description: null, updated_at: expect.any(String), version: 2 });
      expect(await getTask(task.id)).toEqual(patched.body);
    });

    it('keeps the version (and the ETag) when a patch changes nothing', async () => {
      const task = await createTask({ priority: 'low' });
      const patched = await patch(task.id, { priority: 'low', title: task.title });
      expect(patched).toMatchObject({ status: 200, body: task });
      expect(patched.headers.get('etag')).toBe('"1"');
      expect(await activity(task.id)).toHaveLength(1);
    });

    it.each([
      ['an empty object', {}],
      ['created_by (immutable)', { created_by: 'mallory' }],
      ['an id', { id: randomUUID() }],
      ['a version', { version: 9 }],
      ['an unknown status', { status: 'blocked' }],
      ['a null title', { title: null }],
      ['a null status', { status: null }],
      ['an unknown field', { colour: 'red' }],
    ])('answers 400 to a patch with %s and changes nothing', async (_name, body) => {
      const task = await createTask();
      const rejected = await patch(task.id, body);
      expect(rejected).toMatchObject({ status: 400, body: { error: { code: 'validation_failed' } } });
      expect(await getTask(task.id)).toEqual(task);
    });

    it('answers 412 precondition_failed to a stale If-Match, and changes nothing (task, ETag, history)', async () => {
      const task = await createTask({ title: 'Contended' });
      const first = await patch(task.id, { title: 'First writer' }, { 'if-match': '"1"' });
      expect(first).toMatchObject({ status: 200, body: { title: 'First writer', version: 2 } });
      const historyBefore = await activity(task.id);

      const stale = await patch(task.id, { title: 'Second writer', priority: 'high' }, { 'if-match': '"1"' });

      expect(stale).toMatchObject({ status: 412, body: { error: { code: 'precondition_failed', message: expect.any(String), details: { currentVersion: 2 } } } });
      const after = await getTask(task.id);
      expect(after).toEqual(first.body);
      expect(await activity(task.id)).toEqual(historyBefore);
    });

    it('treats If-Match as a list, * as "exists", and weak or foreign tags as never matching', async () => {
      const task = await createTask();
      expect(await patch(task.id, { title: 'list' }, { 'if-match': '"7", "1"' })).toMatchObject({ status: 200, body: { version: 2 } });
      expect(await patch(task.id, { title: 'star' }, { 'if-match': '*' })).toMatchObject({ status: 200, body: { version: 3 } });
      expect((await patch(task.id, { title: 'weak' }, { 'if-match': 'W/"3"' })).status).toBe(412);
      expect((await patch(task.id, { title: 'foreign' }, { 'if-match': '"abc"' })).status).toBe(412);
      expect((await patch(task.id, { title: 'bare' }, { 'if-match': '3' })).status).toBe(400);
      expect((await getTask(task.id)).title).toBe('star');
    });

    it('answers 412 to a DELETE with a stale If-Match and keeps the task; the current one deletes', async () => {
      const task = await createTask();
      await patch(task.id, { priority: 'high' });

      const stale = await requestJson('DELETE', url(`/tasks/${task.id}`), undefined, { 'if-match': '"1"' });
      expect(stale).toMatchObject({ status: 412, body: { error: { code: 'precondition_failed' } } });
      expect((await getTask(task.id)).version).toBe(2);

      const current = await requestJson('DELETE', url(`/tasks/${task.id}`), undefined, { 'if-match': '"2"' });
      expect(current.status).toBe(204);
    });

    it('applies 10 concurrent PATCHes without If-Match, losing none: version ends at 11', async () => {
      const task = await createTask({ title: 'Hot task' });
      const patches = [
        { title: 'Hot task 1' },
        { description: 'described' },
        { priority: 'high' },
        { status: 'in_progress' },
        { assignee: 'bob@example.com' },
        { due_date: '2030-01-01' },
        { title: 'Hot task 7' },
        { description: 'described again' },
        { assignee: 'carol@example.com' },
        { due_date: '2030-02-02' },
      ];

      const answers = await Promise.all(patches.map((body, i) => patch(task.id, body, { 'x-actor': `writer-${i}` })));

      expect(answers.map((a) => a.status)).toEqual(patches.map(() => 200));
      expect(answers.map((a) => (a.body as unknown as TaskBody).version).sort((a, b) => a - b)).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
      const final = await getTask(task.id);
      expect(final).toMatchObject({ version: 11, priority: 'high', status: 'in_progress' });
      expect(['Hot task 1', 'Hot task 7']).toContain(final.title);
      expect(['described', 'described again']).toContain(final.description);

      // Every write is in the history, and each field's from/to values form one chain:
      // every writer saw the value the previous writer left (no write was based on a stale read).
      const history = await activity(task.id);
      expect(history.map((e) => e.action)).toEqual(['created', ...patches.map(() => 'updated')]);
      expect(new Set(history.slice(1).map((e) => e.actor))).toEqual(new Set(patches.map((_, i) => `writer-${i}`)));
      const values: Record<string, unknown> = { title: 'Hot task', description: null, priority: 'medium', status: 'todo', assignee: null, due_date: null };
      for (const entry of history.slice(1)) {
        for (const [field, change] of Object.entries(entry.changes)) {
          expect(change.from, `${field} in ${JSON.stringify(entry)}`).toEqual(values[field]);
          values[field] = change.to;
        }
      }
      expect(values).toEqual({ title: final.title, description: final.description, priority: final.priority, status: final.status, assignee: final.assignee, due_date: final.due_date });
    });

    it('deletes with 204: the task and its comments are gone (404), its history stays and says who deleted it', async () => {
      const task = await createTask({ assignee: 'bob' });
      await postJson(url(`/tasks/${task.id}/comments`), { author: 'bob', body: 'on it' });

      const deleted = await requestJson('DELETE', url(`/tasks/${task.id}`), undefined, { 'x-actor': 'dave@example.com' });

      expect(deleted).toMatchObject({ status: 204, body: undefined });
      expect((await getJson(url(`/tasks/${task.id}`))).status).toBe(404);
      expect((await getJson(url(`/tasks/${task.id}/comments`))).status).toBe(404);
      expect((await requestJson('DELETE', url(`/tasks/${task.id}`))).status).toBe(404);
      expect((await postJson(url(`/tasks/${task.id}/comments`), { author: 'bob', body: 'too late' })).status).toBe(404);
      const history = await activity(task.id);
      expect(history.at(-1)).toMatchObject({ action: 'deleted', actor: 'dave@example.com', changes: { title: { from: 'A task', to: null }, assignee: { from: 'bob', to: null } } });
    });
  });

  describe('comments and activity', () => {
    it('adds comments (201) and lists them oldest first; the task version does not move', async () => {
      const task = await createTask();

      const first = await postJson(url(`/tasks/${task.id}/comments`), { author: 'bob@example.com', body: ' Looks good ' });
      const second = await postJson(url(`/tasks/${task.id}/comments`), { body: 'Agreed' }, { 'x-actor': 'carol@example.com' });

      expect(first).toMatchObject({ status: 201, body: { id: expect.stringMatching(UUID), task_id: task.id, author: 'bob@example.com', body: 'Looks good', version: 1 } });
      expect(second).toMatchObject({ status: 201, body: { author: 'carol@example.com', body: 'Agreed' } });
      const comments = await listAll<CommentBody>(`/tasks/${task.id}/comments`);
      expect(comments).toEqual([first.body, second.body]);
      expect((await getTask(task.id)).version).toBe(1);
    });

    it('pages through comments with a cursor', async () => {
      const task = await createTask();
      for (let i = 0; i < 5; i++) await postJson(url(`/tasks/${task.id}/comments`), { author: 'bob', body: `comment ${i}` });
      const comments = await listAll<CommentBody>(`/tasks/${task.id}/comments`, 2);
      expect(comments.map((c) => c.body)).toEqual(['comment 0', 'comment 1', 'comment 2', 'comment 3', 'comment 4']);
    });

    it.each([
      ['no author and no X-Actor', { body: 'hi' }, 'author'],
      ['an empty body', { author: 'bob', body: '  ' }, 'body'],
      ['no body', { author: 'bob' }, 'body'],
      ['a body over 10000 characters', { author: 'bob', body: 'x'.repeat(10_001) }, 'body'],
      ['an unknown field', { author: 'bob', body: 'hi', mood: 'happy' }, 'mood'],
    ])('answers 400 to a comment with %s', async (_name, body, field) => {
      const task = await createTask();
      const rejected = await postJson(url(`/tasks/${task.id}/comments`), body);
      expect(rejected).toMatchObject({ status: 400, body: { error: { code: 'validation_failed' } } });
      expect(JSON.stringify(rejected.body['error'])).toContain(field);
      expect(await listAll<CommentBody>(`/tasks/${task.id}/comments`)).toEqual([]);
    });

    it('answers 404 to comments and activity of a task that never existed', async () => {
      const id = randomUUID();
      expect((await postJson(url(`/tasks/${id}/comments`), { author: 'bob', body: 'hi' })).status).toBe(404);
      expect((await getJson(url(`/tasks/${id}/comments`))).status).toBe(404);
      expect((await getJson(url(`/tasks/${id}/activity`))).status).toBe(404);
    });

    it('records who changed what and when, in order, with from/to per field', async () => {
      const task = await createTask({ title: 'Audit me', assignee: 'bob' }, { 'x-actor': 'alice-admin' });
      await patch(task.id, { status: 'in_progress', assignee: 'carol' }, { 'x-actor': 'bob' });
      const comment = await postJson(url(`/tasks/${task.id}/comments`), { author: 'carol', body: 'taking it' });
      await patch(task.id, { status: 'done' });

      const history = await activity(task.id);

      expect(history).toEqual([
        {
          id: expect.stringMatching(UUID),
          task_id: task.id,
          actor: 'alice-admin',
          action: 'created',
          changes: {
            created_by: { from: null, to: 'alice@example.com' },
            title: { from: null, to: 'Audit me' },
            status: { from: null, to: 'todo' },
            priority: { from: null, to: 'medium' },
            assignee: { from: null, to: 'bob' },
          },
          created_at: task.created_at,
        },
        expect.objectContaining({ actor: 'bob', action: 'updated', changes: { status: { from: 'todo', to: 'in_progress' }, assignee: { from: 'bob', to: 'carol' } } }),
        expect.objectContaining({ actor: 'carol', action: 'commented', changes: { comment_id: { from: null, to: comment.body['id'] } } }),
        expect.objectContaining({ actor: 'anonymous', action: 'updated', changes: { status: { from: 'in_progress', to: 'done' } } }),
      ]);
      const times = history.map((e) => e.created_at);
      expect(new Set(times).size).toBe(times.length);
      expect(times).toEqual([...times].sort());
      expect((await getTask(task.id)).updated_at).toBe(times.at(-1));
    });

    it('pages through the activity with a cursor', async () => {
      const task = await createTask();
      for (let i = 0; i < 4; i++) await patch(task.id, { title: `step ${i}` });
      const history = await listAll<ActivityBody>(`/tasks/${task.id}/activity`, 2);
      expect(history.map((e) => e.action)).toEqual(['created', 'updated', 'updated', 'updated', 'updated']);
      expect(history.slice(1).map((e) => e.changes['title']?.to)).toEqual(['step 0', 'step 1', 'step 2', 'step 3']);
    });
  });

  describe('listing', () => {
    it('filters by assignee and status, newest first, a page at a time', async () => {
      const assignee = `filter-${randomUUID()}@example.com`;
      const made: TaskBody[] = [];
      for (const status of ['todo', 'done', 'todo', 'in_progress', 'todo'] as const) made.push(await createTask({ assignee, status }));
      await createTask({ assignee: 'someone-else', status: 'todo' });

      const mine = await listAll<TaskBody>(`/tasks?assignee=${encodeURIComponent(assignee)}`, 2);
      expect(mine).toEqual([...made].sort(newestFirst));

      const myTodos = await listAll<TaskBody>(`/tasks?assignee=${encodeURIComponent(assignee)}&status=todo`, 2);
      expect(myTodos).toEqual(made.filter((t) => t.status === 'todo').sort(newestFirst));

      const allDone = await listAll<TaskBody>('/tasks?status=done');
      expect(allDone.every((t) => t.status === 'done')).toBe(true);
      expect(allDone.map((t) => t.id)).toContain(made[1]?.id);
    });

    it('sees a change of status in the filtered listing at once', async () => {
      const assignee = `mover-${randomUUID()}`;
      const task = await createTask({ assignee });
      await patch(task.id, { status: 'done' });
      const q = (status: string) => listAll<TaskBody>(`/tasks?assignee=${encodeURIComponent(assignee)}&status=${status}`);
      expect(await q('todo')).toEqual([]);
      expect((await q('done')).map((t) => t.id)).toEqual([task.id]);
    });

    it.each([['status=open'], ['limit=0'], ['limit=101'], ['cursor=%%%'], ['assignee='], ['priority=high']])('answers 400 to GET /tasks?%s', async (query) => {
      const rejected = await getJson(url(`/tasks?${query}`));
      expect(rejected).toMatchObject({ status: 400, body: { error: { code: expect.any(String) } } });
    });

    it('documents the routes in the OpenAPI document', async () => {
      const openapi = await getJson(url('/openapi.json'));
      expect(Object.keys(openapi.body['paths'] as object)).toEqual(expect.arrayContaining(['/tasks', '/tasks/{id}', '/tasks/{id}/comments', '/tasks/{id}/activity']));
    });
  });
});

/** The listing order: `created_at` descending, then `id` descending (ties within a millisecond). */
function newestFirst(a: TaskBody, b: TaskBody): number {
  if (a.created_at !== b.created_at) return a.created_at < b.created_at ? 1 : -1;
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}
