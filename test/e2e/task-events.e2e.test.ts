import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventBus, PutEventsEntry } from '../../src/ports/event-bus.js';
import { eventually, getJson, postJson, requestJson, startTestSpool, type TestSpool } from '../support/local-spool.js';

interface TaskBody {
  id: string;
  title: string;
  status: string;
  created_by: string;
  version: number;
}

/** The recipe's own test event (its README: `aws events put-events ...`). */
const RECIPE_EVENT = {
  Source: 'task.management',
  DetailType: 'Task Created',
  Detail: JSON.stringify({ eventType: 'task.created', taskData: { title: 'Test Task', created_by: 'test@example.com' } }),
  EventBusName: 'task-events-dev',
};

describe('task events on the embedded bus (rule task-processing-rule -> task processor)', () => {
  let spool: TestSpool;
  const published: PutEventsEntry[] = [];
  beforeAll(async () => {
    // Every entry the system puts on its bus is recorded on the way through.
    const record = (bus: EventBus): EventBus =>
      Object.assign(Object.create(bus) as EventBus, {
        putEvents: async (entries: readonly PutEventsEntry[]) => {
          published.push(...entries);
          return bus.putEvents(entries);
        },
      });
    spool = await startTestSpool({}, { wrapPorts: (ports) => ({ ...ports, eventBus: record(ports.eventBus!) }) });
  });
  afterAll(async () => spool.dispose());
  const url = (path: string) => `${spool.url}${path}`;
  const tasksTitled = async (title: string) => ((await getJson(url('/tasks?limit=100'))).body.items as TaskBody[]).filter((t) => t.title === title);

  it('creates the task from the recipe’s PutEvents entry, exactly as its test sends it', async () => {
    // Act
    const put = await postJson(url('/events'), { Entries: [RECIPE_EVENT] });
    // Assert
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ FailedEntryCount: 0, Entries: [{ EventId: expect.any(String) }] });
    const created = await eventually(() => tasksTitled('Test Task'), (tasks) => tasks.length > 0);
    expect(created).toEqual([expect.objectContaining({ created_by: 'test@example.com', status: 'todo', version: 1 })]);
  });

  it('publishes Task Created / Updated / Completed / Deleted for API changes, in the recipe’s detail shape', async () => {
    // Arrange
    const task = (await postJson(url('/tasks'), { title: 'Published', created_by: 'alice@example.com' })).body as unknown as TaskBody;
    // Act
    await requestJson('PATCH', url(`/tasks/${task.id}`), { priority: 'high' }, { 'x-actor': 'bob@example.com' });
    await requestJson('PATCH', url(`/tasks/${task.id}`), { status: 'done' });
    await requestJson('DELETE', url(`/tasks/${task.id}`));
    // Assert
    const mine = published.filter((e) => (JSON.parse(e.detail) as { taskId?: string }).taskId === task.id);
    expect(mine.map((e) => [e.source, e.detailType, e.eventBusName])).toEqual([
      ['task.management', 'Task Created', 'task-events-dev'],
      ['task.management', 'Task Updated', 'task-events-dev'],
      ['task.management', 'Task Completed', 'task-events-dev'],
      ['task.management', 'Task Deleted', 'task-events-dev'],
    ]);
    const updated = JSON.parse(mine[1]!.detail) as Record<string, unknown>;
    expect(updated).toMatchObject({
      eventType: 'task.updated',
      taskId: task.id,
      version: 2,
      actor: 'bob@example.com',
      changes: { priority: { from: 'medium', to: 'high' } },
      taskData: { id: task.id, title: 'Published', priority: 'high', version: 2 },
    });
  });

  it('does not act again on its own events when the rule delivers them back', async () => {
    const task = (await postJson(url('/tasks'), { title: 'Looped', created_by: 'alice@example.com' })).body as unknown as TaskBody;
    await requestJson('PATCH', url(`/tasks/${task.id}`), { status: 'in_progress' });
    // The router and the processor run asynchronously; give them time to (not) act.
    await eventually(() => getJson(url('/admin/queues')), (r) => (r.body.queues as { visible: number; inFlight: number }[]).every((q) => q.visible + q.inFlight === 0), 5000);
    expect(await tasksTitled('Looped')).toEqual([expect.objectContaining({ id: task.id, version: 2, status: 'in_progress' })]);
    expect((await getJson(url(`/tasks/${task.id}/activity`))).body.items).toHaveLength(2);
  });

  it('measures PutEvents against its 256 KB content limit, not the escaped JSON body (400 over it; 413 only past the bounded body limit)', async () => {
    // Arrange: a Detail of quote-heavy JSON whose escaped body is well over 256 KiB while its content is under 256 KB.
    // {"words":["a","a",...]}: 4 bytes per word, of which 2 are quotes that the request body escapes.
    const detailOf = (bytes: number) => JSON.stringify({ words: Array.from({ length: Math.floor((bytes - 12) / 4) }, () => 'a') });
    const entry = (detail: string) => ({ Source: 'spool.test', DetailType: 'Big', Detail: detail, EventBusName: 'task-events-dev' });
    const under = detailOf(250_000);
    expect(JSON.stringify({ Entries: [entry(under)] }).length).toBeGreaterThan(256 * 1024);
    // Act / Assert
    const accepted = await postJson(url('/events'), { Entries: [entry(under)] });
    expect(accepted.status, JSON.stringify(accepted.body).slice(0, 300)).toBe(200);
    expect(accepted.body).toMatchObject({ FailedEntryCount: 0 });
    const over = await postJson(url('/events'), { Entries: [entry(detailOf(270_000))] });
    expect(over.status).toBe(400);
    expect(JSON.stringify(over.body)).toMatch(/size/i);
    const huge = await postJson(url('/events'), { Entries: [entry(detailOf(700_000))] });
    expect(huge.status).toBe(413);
  });

  it('shows the bus’s router queue and the processor’s target queue in /admin/queues', async () => {
    const { body } = await getJson(url('/admin/queues'));
    expect((body.queues as { name: string }[]).map((q) => q.name)).toEqual(
      expect.arrayContaining(['events-task-events-dev', 'task-processing-rule-task-processor']),
    );
  });

  it('dead-letters an event the processor can never apply, with one alert, after its retries', async () => {
    const broken = { ...RECIPE_EVENT, Detail: JSON.stringify({ eventType: 'task.created', taskData: { title: 'no creator' } }) };
    expect((await postJson(url('/events'), { Entries: [broken] })).status).toBe(200);
    const dlq = await eventually(
      () => getJson(url('/admin/queues/task-processing-rule-task-processor/dlq')),
      (r) => (r.body.messages as unknown[]).length > 0,
      20_000,
    );
    const [letter] = dlq.body.messages as { body: string; receiveCount: number }[];
    expect(JSON.parse(letter!.body)).toMatchObject({ source: 'task.management', 'detail-type': 'Task Created', detail: { taskData: { title: 'no creator' } } });
    expect(letter!.receiveCount).toBe(9);
    // The outbox subscriber of the alerts topic holds one alert for it.
    const alerts = readFileSync(join(spool.dataDir, 'alerts.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { subject: string });
    expect(alerts.filter((a) => a.subject.includes('task-processing-rule-task-processor'))).toHaveLength(1);
  }, 30_000);
});

describe('local multi-region (npm start -- --regions us-east-1,us-east-2)', () => {
  let spool: TestSpool;
  beforeAll(async () => {
    spool = await startTestSpool({}, { regions: ['us-east-1', 'us-east-2'] });
  });
  afterAll(async () => spool.dispose());

  it('serves one listener per region, each naming its region in /health', async () => {
    expect(spool.listeners.map((l) => l.region)).toEqual(['us-east-1', 'us-east-2']);
    expect(new Set(spool.listeners.map((l) => l.url)).size).toBe(2);
    for (const { region, url } of spool.listeners) expect((await getJson(`${url}/health`)).body).toMatchObject({ status: 'ok', region });
  });

  it('reads a user written through one region at once through the other', async () => {
    const [east1, east2] = spool.listeners;
    const created = await postJson(`${east1!.url}/users`, { name: 'Ada', email: `ada-${Date.now()}@example.com` });
    expect(created.status).toBe(201);
    const read = await getJson(`${east2!.url}/users/${String(created.body.id)}`);
    expect(read.status).toBe(200);
    expect(read.body).toEqual(created.body);
  });
});
