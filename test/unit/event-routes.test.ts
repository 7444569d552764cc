import { OpenAPIHono } from '@hono/zod-openapi';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalEventBus } from '../../src/adapters/embedded/local-event-bus.js';
import { SqliteEngine } from '../../src/adapters/embedded/sqlite-engine.js';
import { errorResponse } from '../../src/http/error-handler.js';
import { registerEventRoutes } from '../../src/http/routes/events.js';
import { validationHook } from '../../src/http/validation-hook.js';
import type { EventEnvelope } from '../../src/ports/event-bus.js';
import { createEventBusConsumers } from '../../src/runtime/event-bus-consumers.js';
import { drainUntil } from '../support/drain-consumers.js';

const logger = pino({ level: 'silent' });
const TASK_PATTERN = '{"source":["task.management"],"detail-type":["Task Created","Task Updated","Task Completed","Task Deleted"]}';
const RECIPE_DETAIL = '{"eventType":"task.created","taskData":{"title":"Test Task","created_by":"test@example.com"}}';

describe('POST /events and POST /events/test-pattern', () => {
  let engine: SqliteEngine;
  let bus: LocalEventBus;
  let app: OpenAPIHono;
  let processed: EventEnvelope[];

  const post = (path: string, body: unknown) =>
    app.request(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  const deliver = async (atLeast = 1, timeoutMs = 3000) => {
    const handlers = new Map([['task-processor', async (event: EventEnvelope) => void processed.push(event)]]);
    const deps = { handlers, queues: new Map(), alerts: { name: 'alerts', publish: async () => 'id' }, logger, retryBaseSeconds: 0, maxRetryDelaySeconds: 0 };
    await drainUntil(() => createEventBusConsumers(bus, deps), () => processed.length >= atLeast, timeoutMs);
    return processed;
  };

  beforeEach(async () => {
    engine = SqliteEngine.open(':memory:');
    bus = new LocalEventBus(engine, { retentionSeconds: 1_209_600, account: '123456789012', region: 'eu-west-1' });
    app = new OpenAPIHono({ defaultHook: validationHook });
    app.onError((error, c) => errorResponse(error, c, logger));
    registerEventRoutes(app, bus, { defaultBusName: 'task-events-test' });
    processed = [];
    // The recipe's bus, and the deployment's default bus (a target queue name, <rule>-<target>, is unique per process).
    for (const [busName, name] of [['task-events-dev', 'task-processing-rule'], ['task-events-test', 'default-bus-rule']] as const) {
      await bus.putRule({ name, busName, eventPattern: TASK_PATTERN });
      await bus.putTargets({ name, busName }, [{ id: 'task-processor', kind: 'handler', handler: 'task-processor', maximumRetryAttempts: 2 }]);
    }
  });
  afterEach(() => engine.close());

  it('accepts the recipe’s test event, put exactly as the recipe does, and routes it to the task processor', async () => {
    // aws events put-events --entries '[{"Source": "task.management", "DetailType": "Task Created", "Detail": "{\"eventType\":...}", "EventBusName": "task-events-dev"}]'
    const res = await post(
      '/events',
      `{"Entries": [{
        "Source": "task.management",
        "DetailType": "Task Created",
        "Detail": "{\\"eventType\\":\\"task.created\\",\\"taskData\\":{\\"title\\":\\"Test Task\\",\\"created_by\\":\\"test@example.com\\"}}",
        "EventBusName": "task-events-dev"
      }]}`,
    );
    expect(res.status).toBe(200);
    const body = (await res.json()) as { FailedEntryCount: number; Entries: Array<{ EventId: string }> };
    expect(body).toEqual({ FailedEntryCount: 0, Entries: [{ EventId: expect.any(String) }] });
    const [event, ...more] = await deliver();
    expect(more).toEqual([]);
    expect(event).toEqual({
      version: '0',
      id: body.Entries[0]!.EventId,
      'detail-type': 'Task Created',
      source: 'task.management',
      account: '123456789012',
      time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
      region: 'eu-west-1',
      resources: [],
      detail: { eventType: 'task.created', taskData: { title: 'Test Task', created_by: 'test@example.com' } },
    });
  });

  it('puts an entry without EventBusName on the default bus, with its Time (epoch seconds or RFC 3339) and Resources', async () => {
    const res = await post('/events', {
      Entries: [
        { Source: 'task.management', DetailType: 'Task Updated', Detail: '{"n":1}', Time: 1714566896, Resources: ['arn:aws:s3:::b'] },
        { Source: 'task.management', DetailType: 'Task Updated', Detail: '{"n":2}', Time: '2024-05-01T14:34:56+02:00' },
      ],
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { FailedEntryCount: number }).FailedEntryCount).toBe(0);
    const events = (await deliver(2)).sort((a, b) => Number(a.detail.n) - Number(b.detail.n));
    expect(events.map((e) => [e.time, e.resources])).toEqual([
      ['2024-05-01T12:34:56Z', ['arn:aws:s3:::b']],
      ['2024-05-01T12:34:56Z', []],
    ]);
  });

  it('answers per-entry failures in place, with 200, as PutEvents does', async () => {
    const res = await post('/events', {
      Entries: [
        { Source: 'task.management', DetailType: 'Task Created', Detail: RECIPE_DETAIL },
        { Source: 'task.management', DetailType: 'Task Created', Detail: '{"eventType":' },
        { DetailType: 'Task Created', Detail: '{}' },
        { Source: 'task.management', DetailType: 'Task Created', Detail: '["not","an","object"]' },
      ],
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      FailedEntryCount: 3,
      Entries: [
        { EventId: expect.any(String) },
        { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' },
        { ErrorCode: 'InvalidArgument', ErrorMessage: 'Parameter Source is not valid. Reason: Source is a required argument.' },
        { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' },
      ],
    });
    expect(await deliver(1)).toHaveLength(1);
  });

  it.each([
    ['11 entries', { Entries: Array.from({ length: 11 }, () => ({ Source: 's', DetailType: 't', Detail: '{}' })) }],
    ['no entries', { Entries: [] }],
    ['no Entries', {}],
    ['an unknown field', { Entries: [{ Source: 's', DetailType: 't', Detail: '{}', Extra: 1 }] }],
    ['a Detail that is an object, not JSON text', { Entries: [{ Source: 's', DetailType: 't', Detail: { a: 1 } }] }],
    ['a malformed Time', { Entries: [{ Source: 's', DetailType: 't', Detail: '{}', Time: 'yesterday' }] }],
  ])('answers 400 for %s', async (_name, body) => {
    const res = await post('/events', body);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('validation_failed');
  });

  it('answers 400 for a malformed JSON body', async () => {
    const res = await post('/events', '{"Entries": [');
    expect(res.status).toBe(400);
  });

  it('refuses a request over the size limit as a whole (400, in EventBridge’s words)', async () => {
    const big = `{"p":"${'x'.repeat(140 * 1024)}"}`;
    const res = await post('/events', { Entries: [1, 2].map(() => ({ Source: 'task.management', DetailType: 'Task Created', Detail: big })) });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { code: 'validation_failed', message: 'Total size of the entries in the request is over the limit.' } });
  });

  describe('test-pattern', () => {
    const event = (source: string) =>
      JSON.stringify({
        id: 'e1',
        account: '123456789012',
        source,
        time: '2024-05-01T12:00:00Z',
        region: 'us-east-1',
        'detail-type': 'Task Created',
        resources: [],
        detail: JSON.parse(RECIPE_DETAIL) as unknown,
      });

    it('says whether the pattern matches the event', async () => {
      const yes = await post('/events/test-pattern', { EventPattern: TASK_PATTERN, Event: event('task.management') });
      expect(yes.status).toBe(200);
      expect(await yes.json()).toEqual({ Result: true });
      const no = await post('/events/test-pattern', { EventPattern: TASK_PATTERN, Event: event('billing') });
      expect(await no.json()).toEqual({ Result: false });
      const onDetail = await post('/events/test-pattern', {
        EventPattern: '{"detail":{"taskData":{"created_by":[{"suffix":"@example.com"}]}}}',
        Event: event('task.management'),
      });
      expect(await onDetail.json()).toEqual({ Result: true });
    });

    it('answers 400 for a pattern EventBridge would refuse', async () => {
      const res = await post('/events/test-pattern', { EventPattern: '{"source":"task.management"}', Event: event('task.management') });
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ error: { code: 'validation_failed', message: expect.stringMatching(/^Event pattern is not valid\. Reason: /) } });
    });

    it('answers 400 for an event missing a required field or not JSON', async () => {
      const missing = await post('/events/test-pattern', { EventPattern: TASK_PATTERN, Event: '{"source":"task.management"}' });
      expect(missing.status).toBe(400);
      expect(await missing.json()).toMatchObject({ error: { message: expect.stringMatching(/^Parameter Event is not valid\./) } });
      const notJson = await post('/events/test-pattern', { EventPattern: TASK_PATTERN, Event: '{' });
      expect(notJson.status).toBe(400);
    });

    it('answers 400 for a body without Event or with extra fields', async () => {
      expect((await post('/events/test-pattern', { EventPattern: TASK_PATTERN })).status).toBe(400);
      expect((await post('/events/test-pattern', { EventPattern: TASK_PATTERN, Event: event('x'), Extra: true })).status).toBe(400);
    });
  });

  it('documents both routes in the OpenAPI document', () => {
    const doc = app.getOpenAPI31Document({ openapi: '3.1.0', info: { title: 'test', version: '1' } });
    expect(Object.keys(doc.paths ?? {})).toEqual(expect.arrayContaining(['/events', '/events/test-pattern']));
  });
});
