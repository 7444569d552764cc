import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { streamSSE, type SSEStreamingApi } from 'hono/streaming';
import type { Logger } from 'pino';
import * as z from 'zod';
import { ServiceUnavailableError } from '../../errors.js';
import { decodeStreamPosition, TaskChangeFeed, type FeedEntry, type TaskChangeFeedOptions } from '../../domain/tasks/task-change-feed.js';
import type { TaskChangeSignal } from '../../domain/tasks/task-change-signal.js';
import { TaskId, TaskView } from '../../domain/tasks/task-schemas.js';
import type { TaskService } from '../../domain/tasks/task-service.js';
import { present, requireSqlStore, sqlErrorResponses } from './sql-backed.js';

export interface TaskStreamDeps {
  /** Absent without a SQL store: the route answers 503 `sql_not_configured`. */
  readonly tasks: TaskService | undefined;
  /** This process's committed task changes: wakes the streams at once (without it they poll). */
  readonly changes: TaskChangeSignal | undefined;
  readonly logger: Logger;
}

export interface TaskStreamOptions {
  /** Most open streams per process (counted on the signal); beyond, 503 `too_many_streams` (default 1,000). */
  readonly maxStreams?: number;
  /** A `: keep-alive` comment after this long without a message (default 15,000 ms). */
  readonly heartbeatMs?: number;
  /** The `retry:` hint: how long an EventSource waits before reconnecting (default 2,000 ms). */
  readonly retryMs?: number;
  /** Overlap window, poll interval and bounds of each stream's feed (see TaskChangeFeed). */
  readonly feed?: TaskChangeFeedOptions;
}

const StreamQuery = z.strictObject({
  after: z
    .string()
    .max(512)
    .optional()
    .describe('Resume after this position (the `id` of a message), for clients that cannot send Last-Event-ID. The header wins when both are sent.'),
  taskId: TaskId.optional().describe('Only the changes of this task'),
});

const StreamHeaders = z.object({
  'last-event-id': z.string().optional().describe('Resume after this position: the `id` of the last message received (EventSource sends it when it reconnects)'),
});

/** The `data` of every message (for the OpenAPI document; the stream itself is text/event-stream). */
export const TaskStreamMessage = z.object({
  eventType: z.enum(['task.created', 'task.updated', 'task.completed', 'task.deleted', 'task.commented']),
  taskId: TaskId,
  actor: z.string(),
  changes: z.record(z.string(), z.object({ from: z.unknown(), to: z.unknown() })),
  activityId: z.uuid(),
  at: z.string().describe('When the change was recorded (the activity entry\'s created_at, ISO-8601 UTC)'),
  task: TaskView.optional().describe('The task as of the change (before it, for task.deleted), when the server has it at hand (the change was made through this process)'),
});

const streamTasks = createRoute({
  method: 'get',
  path: '/tasks/stream',
  tags: ['tasks'],
  summary: 'Server-Sent Events of task changes, resumable with Last-Event-ID',
  description:
    'One message per committed change (create, update, complete, delete, comment), read from the activity history. ' +
    '`event:` is the event type, `data:` a JSON object (schema TaskStreamMessage), `id:` an opaque position: reconnect with it ' +
    'as `Last-Event-ID` (or `?after=`) to receive exactly what followed. Without one the stream starts now (no replay). ' +
    'The first block carries `retry:` and the starting `id:` without data (no event); `: keep-alive` comments come every 15 s when idle. ' +
    'Changes made through this process arrive at once, others within about a second.',
  request: { query: StreamQuery, headers: StreamHeaders },
  responses: {
    200: {
      description: 'An endless text/event-stream',
      content: { 'text/event-stream': { schema: z.string().describe('event: task.updated\\ndata: {"eventType":"task.updated",...}\\nid: <position>') } },
    },
    ...sqlErrorResponses,
  },
});

/**
 * `GET /tasks/stream`. Register it BEFORE the task routes: `/tasks/{id}` would otherwise take
 * `stream` for an id (and answer 400). A malformed `Last-Event-ID` / `after` is a 400 before the
 * stream starts; the subscription is released when the client disconnects.
 */
export function registerTaskStreamRoute(app: OpenAPIHono, deps: TaskStreamDeps, options: TaskStreamOptions = {}): void {
  const maxStreams = options.maxStreams ?? 1_000;
  const heartbeatMs = options.heartbeatMs ?? 15_000;
  const retryMs = options.retryMs ?? 2_000;
  let open = 0;
  // Counted on the signal when there is one: it is shared by every listener of the process.
  const openStreams = () => deps.changes?.size ?? open;

  requireSqlStore(app, '/tasks/stream', deps.tasks);
  app.openapi(streamTasks, async (c) => {
    const tasks = present(deps.tasks);
    const { after, taskId } = c.req.valid('query');
    // An empty Last-Event-ID is what a client that never got an id may send: no position.
    const header = c.req.valid('header')['last-event-id'];
    const resumeFrom = header !== undefined && header !== '' ? header : after;
    const position = resumeFrom === undefined ? undefined : decodeStreamPosition(resumeFrom);
    if (openStreams() >= maxStreams) {
      throw new ServiceUnavailableError('too_many_streams', `this server holds ${maxStreams} task streams already; retry later`);
    }

    // Subscribes at once (synchronously after the check, so the bound holds).
    const feed = new TaskChangeFeed(tasks, deps.changes, { ...options.feed, ...(taskId === undefined ? {} : { taskId }) });
    open += 1;
    const release = () => {
      feed.close();
      open -= 1;
    };
    try {
      await feed.start(position);
    } catch (error) {
      release();
      throw error;
    }

    return streamSSE(c, async (stream) => {
      const abort = new AbortController();
      const stop = () => abort.abort();
      stream.onAbort(stop);
      c.req.raw.signal.addEventListener('abort', stop, { once: true });
      try {
        await pump(stream, feed, abort.signal, { heartbeatMs, retryMs });
      } catch (err) {
        // The client reconnects with its Last-Event-ID and gets what it missed.
        deps.logger.warn({ err }, 'task stream ended by an error');
      } finally {
        c.req.raw.signal.removeEventListener('abort', stop);
        release();
      }
    });
  });
}

async function pump(stream: SSEStreamingApi, feed: TaskChangeFeed, abort: AbortSignal, timing: { heartbeatMs: number; retryMs: number }): Promise<void> {
  // No data: no event, but an EventSource takes the position as its last event id.
  await stream.write(`retry: ${timing.retryMs}\nid: ${feed.position}\n\n`);
  let lastWrite = Date.now();
  while (!abort.aborted && !stream.aborted && !stream.closed) {
    const entries = await feed.read();
    for (const entry of entries) {
      if (abort.aborted) return;
      await stream.writeSSE({ id: entry.position, event: entry.eventType, data: JSON.stringify(message(entry)) });
    }
    if (entries.length > 0) lastWrite = Date.now();
    if (feed.hasMore) continue;
    const untilHeartbeat = lastWrite + timing.heartbeatMs - Date.now();
    if (untilHeartbeat <= 0) {
      await stream.write(': keep-alive\n\n');
      lastWrite = Date.now();
      continue;
    }
    await feed.wait(untilHeartbeat, abort);
  }
}

function message(entry: FeedEntry): z.infer<typeof TaskStreamMessage> {
  const { activity } = entry;
  return {
    eventType: entry.eventType,
    taskId: activity.task_id,
    actor: activity.actor,
    changes: activity.changes,
    activityId: activity.id,
    at: activity.created_at,
    ...(entry.task === undefined ? {} : { task: entry.task }),
  };
}
