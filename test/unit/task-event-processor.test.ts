import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteSql } from '../../src/adapters/sql/sqlite-sql.js';
import { taskChangeEvent, type TaskChange } from '../../src/domain/tasks/task-events.js';
import { TaskService } from '../../src/domain/tasks/task-service.js';
import { ValidationError } from '../../src/errors.js';
import { systemClock } from '../../src/ports/clock.js';
import type { DeliveryAttempt, EventEnvelope, EventHandler } from '../../src/ports/event-bus.js';
import { createTaskEventProcessor, taskIdForEvent } from '../../src/workers/task-event-processor.js';

const attempt: DeliveryAttempt = { number: 1, final: false, signal: new AbortController().signal };

/** An event as EventBridge hands it to a target. */
function envelope(detailType: string, detail: Record<string, unknown>, id = crypto.randomUUID()): EventEnvelope {
  return { version: '0', id, 'detail-type': detailType, source: 'task.management', account: '000000000000', time: '2026-11-24T00:00:00Z', region: 'us-east-1', resources: [], detail };
}

/** The envelope of an event this system published for `change`. */
function published(change: TaskChange): EventEnvelope {
  const entry = taskChangeEvent(change, 'task-events-dev')!;
  return envelope(entry.detailType, JSON.parse(entry.detail) as Record<string, unknown>);
}

describe('task processor (target of task-processing-rule)', () => {
  let dir: string;
  let sql: SqliteSql;
  let tasks: TaskService;
  let changes: TaskChange[];
  let process: EventHandler;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'spool-task-events-'));
    sql = SqliteSql.open(join(dir, 'sql.db'));
    await sql.migrate();
    changes = [];
    tasks = new TaskService({ sql, clock: systemClock, onChange: async (c) => void changes.push(c) });
    process = createTaskEventProcessor({ tasks, logger: pino({ level: 'silent' }) });
  });
  afterEach(async () => {
    await sql.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates the task from the recipe’s test event, attributed to created_by', async () => {
    // Arrange
    const event = envelope('Task Created', { eventType: 'task.created', taskData: { title: 'Test Task', created_by: 'test@example.com' } });
    // Act
    await process(event, attempt);
    // Assert
    const task = await tasks.get(taskIdForEvent(event));
    expect(task).toMatchObject({ title: 'Test Task', created_by: 'test@example.com', status: 'todo', priority: 'medium', version: 1 });
    const history = await tasks.listActivity(task.id, { limit: 10 });
    expect(history.items.map((a) => [a.action, a.actor])).toEqual([['created', 'test@example.com']]);
    expect(changes).toHaveLength(1);
  });

  it('takes the creator from the event’s actor when taskData has no created_by', async () => {
    const event = envelope('Task Created', { eventType: 'task.created', actor: 'importer@example.com', taskData: { title: 'Imported' } });
    await process(event, attempt);
    expect(await tasks.get(taskIdForEvent(event))).toMatchObject({ title: 'Imported', created_by: 'importer@example.com' });
  });

  it('creates one task however often the same event is delivered, even concurrently', async () => {
    const event = envelope('Task Created', { eventType: 'task.created', taskData: { title: 'Once', created_by: 'a@example.com' } });
    await Promise.all([process(event, attempt), process(event, attempt)]);
    await process(event, attempt);
    const listed = await tasks.list({ limit: 10 });
    expect(listed.items.map((t) => t.id)).toEqual([taskIdForEvent(event)]);
    expect(changes).toHaveLength(1);
  });

  it('treats the events this system published as already applied (no loop, no second write)', async () => {
    // Arrange: a task changed three times through the API, and the events that announced it.
    const task = await tasks.create({ title: 'Mine', created_by: 'a@example.com', status: 'todo', priority: 'low' });
    await tasks.update(task.id, { title: 'A' });
    await tasks.update(task.id, { title: 'B', status: 'done' });
    const own = changes.map(published);
    expect(own.map((e) => e['detail-type'])).toEqual(['Task Created', 'Task Updated', 'Task Completed']);
    changes.length = 0;
    // Act: the rule delivers them back to the processor (late, and the older ones again).
    for (const event of [...own, own[1]!]) await process(event, attempt);
    // Assert: nothing was created or reverted.
    expect(changes).toEqual([]);
    expect((await tasks.list({ limit: 10 })).items).toEqual([expect.objectContaining({ id: task.id, title: 'B', status: 'done', version: 3 })]);
  });

  it('applies updates, completions and deletes put from outside', async () => {
    const task = await tasks.create({ title: 'Theirs', created_by: 'a@example.com', status: 'todo', priority: 'low' });
    await process(envelope('Task Updated', { eventType: 'task.updated', taskId: task.id, actor: 'bot@example.com', taskData: { priority: 'high', id: 'ignored' } }), attempt);
    expect(await tasks.get(task.id)).toMatchObject({ priority: 'high', version: 2 });
    await process(envelope('Task Completed', { eventType: 'task.completed', taskId: task.id }), attempt);
    expect(await tasks.get(task.id)).toMatchObject({ status: 'done', version: 3 });
    await process(envelope('Task Deleted', { eventType: 'task.deleted', taskId: task.id }), attempt);
    await process(envelope('Task Deleted', { eventType: 'task.deleted', taskId: task.id }), attempt);
    expect(await tasks.find(task.id)).toBeUndefined();
    const history = await tasks.listActivity(task.id, { limit: 10 });
    expect(history.items.map((a) => [a.action, a.actor])).toEqual([
      ['created', 'a@example.com'],
      ['updated', 'bot@example.com'],
      ['updated', 'event:task.management'],
      ['deleted', 'event:task.management'],
    ]);
  });

  it('fails the delivery (to be retried, then dead-lettered) on an event it can never apply', async () => {
    const cases: Record<string, unknown>[] = [
      { eventType: 'task.created', taskData: { created_by: 'a@example.com' } },
      { eventType: 'task.created', taskData: { title: 'nobody made this' } },
      { eventType: 'task.created', taskData: { title: 'x', created_by: 'a@example.com', status: 'TODO' } },
      { eventType: 'task.created' },
      { eventType: 'task.exploded', taskId: crypto.randomUUID() },
      { eventType: 'task.updated', taskId: 'not-a-uuid', taskData: { title: 'x' } },
      { eventType: 'task.updated', taskId: crypto.randomUUID(), taskData: { title: 'no such task' } },
    ];
    for (const detail of cases) {
      await expect(process(envelope('Task Updated', detail), attempt), JSON.stringify(detail)).rejects.toBeInstanceOf(ValidationError);
    }
    expect(changes).toEqual([]);
  });
});

describe('taskIdForEvent', () => {
  it('is a stable RFC 9562 version-8 UUID per event id', () => {
    const id = taskIdForEvent({ id: 'event-1' });
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(taskIdForEvent({ id: 'event-1' })).toBe(id);
    expect(taskIdForEvent({ id: 'event-2' })).not.toBe(id);
  });
});
