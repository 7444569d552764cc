import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import * as z from 'zod';
import { testEventPattern } from '../../domain/events/event-pattern.js';
import { MAX_PUT_EVENTS_ENTRIES, type EventBus, type PutEventsEntry, type PutEventsResultEntry } from '../../ports/event-bus.js';
import { errorResponses, jsonBody, jsonResponse } from '../openapi-common.js';

// PutEvents' own shape and names. Source, DetailType and Detail are optional here as in the
// EventBridge API: an entry without one fails on its own (InvalidArgument), not the request.
const PutEventsRequestEntry = z
  .strictObject({
    Source: z.string().optional().describe('Who sent the event, e.g. task.management'),
    DetailType: z.string().optional().describe('What happened, e.g. Task Created'),
    Detail: z.string().optional().describe('JSON text of an object: the event body'),
    EventBusName: z.string().min(1).max(1600).optional().describe('Bus name or ARN (default: this deployment’s bus)'),
    Time: z
      .union([z.number().describe('Epoch seconds'), z.iso.datetime({ offset: true }).describe('RFC 3339 date-time')])
      .optional()
      .describe('The event time (default: when accepted)'),
    Resources: z.array(z.string()).optional().describe('ARNs the event concerns'),
  })
  .openapi('PutEventsRequestEntry');

const PutEventsRequest = z
  .strictObject({ Entries: z.array(PutEventsRequestEntry).min(1).max(MAX_PUT_EVENTS_ENTRIES) })
  .openapi('PutEventsRequest', {
    example: {
      Entries: [
        {
          Source: 'task.management',
          DetailType: 'Task Created',
          Detail: '{"eventType":"task.created","taskData":{"title":"Test Task","created_by":"test@example.com"}}',
          EventBusName: 'task-events-dev',
        },
      ],
    },
  });

const PutEventsResultEntry = z.union([
  z.object({ EventId: z.string() }),
  z.object({ ErrorCode: z.enum(['InvalidArgument', 'MalformedDetail', 'InternalFailure']), ErrorMessage: z.string() }),
]);

const PutEventsResponse = z
  .object({
    FailedEntryCount: z.number().int(),
    Entries: z.array(PutEventsResultEntry).describe('One per request entry, in the same order'),
  })
  .openapi('PutEventsResponse');

const TestEventPatternRequest = z
  .strictObject({
    EventPattern: z.string().min(1).describe('The event pattern, as JSON text'),
    Event: z.string().min(1).describe('The event, as JSON text, with id, account, source, time, region and detail-type'),
  })
  .openapi('TestEventPatternRequest');

const putEvents = createRoute({
  method: 'post',
  path: '/events',
  tags: ['events'],
  summary: 'Put events on a bus (mirrors EventBridge PutEvents)',
  description:
    'Accepts 1 to 10 entries; each is answered in its own place with an EventId, or with an ErrorCode and ErrorMessage ' +
    '(InvalidArgument, MalformedDetail) when that entry alone is refused. A request whose entries together exceed the ' +
    'size limit (Source, DetailType, Detail and Resources in UTF-8 bytes, plus 14 for Time) is refused as a whole (400). ' +
    'Accepted events are on disk when this answers; rules route them to their targets asynchronously.',
  request: { body: jsonBody(PutEventsRequest) },
  responses: { 200: jsonResponse('Per-entry results', PutEventsResponse), ...errorResponses },
});

const testPattern = createRoute({
  method: 'post',
  path: '/events/test-pattern',
  tags: ['events'],
  summary: 'Test an event pattern against an event (mirrors EventBridge TestEventPattern)',
  description: 'An invalid pattern, or an event missing a required field or with a malformed time, is a 400 in EventBridge’s words.',
  request: { body: jsonBody(TestEventPatternRequest) },
  responses: { 200: jsonResponse('Whether the pattern matches the event', z.object({ Result: z.boolean() })), ...errorResponses },
});

/** `POST /events` (PutEvents) and `POST /events/test-pattern` (TestEventPattern). */
export function registerEventRoutes(app: OpenAPIHono, bus: EventBus, options: { readonly defaultBusName: string }): void {
  app.openapi(putEvents, async (c) => {
    const { Entries } = c.req.valid('json');
    const entries = Entries.map(
      (e): PutEventsEntry => ({
        source: e.Source ?? '',
        detailType: e.DetailType ?? '',
        detail: e.Detail ?? '',
        eventBusName: e.EventBusName ?? options.defaultBusName,
        ...(e.Time === undefined ? {} : { time: typeof e.Time === 'number' ? new Date(e.Time * 1000) : new Date(e.Time) }),
        ...(e.Resources === undefined ? {} : { resources: e.Resources }),
      }),
    );
    const result = await bus.putEvents(entries);
    return c.json({ FailedEntryCount: result.failedEntryCount, Entries: result.entries.map(toWire) }, 200);
  });
  app.openapi(testPattern, async (c) => {
    const { EventPattern, Event } = c.req.valid('json');
    return c.json({ Result: testEventPattern(EventPattern, Event) }, 200);
  });
}

function toWire(entry: PutEventsResultEntry) {
  return 'eventId' in entry ? { EventId: entry.eventId } : { ErrorCode: entry.errorCode, ErrorMessage: entry.errorMessage };
}
