import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import * as z from 'zod';
import { NotFoundError } from '../../errors.js';
import type { Queue } from '../../ports/queue.js';
import { errorResponses, jsonResponse } from '../openapi-common.js';

const QueueName = z.string().regex(/^[a-z][a-z0-9-]{0,39}$/).describe('Queue name, e.g. jobs');

const QueueStatsView = z.object({
  name: z.string(),
  maxReceiveCount: z.number(),
  visible: z.number(),
  inFlight: z.number(),
  delayed: z.number(),
  deadLetters: z.number(),
  oldestAgeSeconds: z.number().optional(),
});

const listQueues = createRoute({
  method: 'get',
  path: '/admin/queues',
  tags: ['admin'],
  summary: 'Counts per queue and its dead-letter queue',
  responses: { 200: jsonResponse('Stats per queue', z.object({ queues: z.array(QueueStatsView) })) },
});

const peekDlq = createRoute({
  method: 'get',
  path: '/admin/queues/{name}/dlq',
  tags: ['admin'],
  summary: 'Dead letters of a queue, without consuming them',
  request: {
    params: z.object({ name: QueueName }),
    query: z.strictObject({ limit: z.coerce.number().int().min(1).max(100).default(10) }),
  },
  responses: {
    200: jsonResponse(
      'Dead letters, oldest first',
      z.object({ messages: z.array(z.object({ messageId: z.string(), body: z.string(), receiveCount: z.number(), sentAt: z.string() })) }),
    ),
    ...errorResponses,
  },
});

const redrive = createRoute({
  method: 'post',
  path: '/admin/queues/{name}/redrive',
  tags: ['admin'],
  summary: 'Move dead letters back to the queue, where they run again',
  request: { params: z.object({ name: QueueName }), query: z.strictObject({ limit: z.coerce.number().int().min(1).max(10_000).default(1000) }) },
  responses: { 200: jsonResponse('How many moved', z.object({ moved: z.number() })), ...errorResponses },
});

/** Operator endpoints: queue stats, DLQ peek and redrive. */
export function registerAdminRoutes(app: OpenAPIHono, queues: ReadonlyMap<string, Queue>): void {
  const queueNamed = (name: string): Queue => {
    const queue = queues.get(name);
    if (queue === undefined) throw new NotFoundError(`no queue named ${name}; known: ${[...queues.keys()].join(', ')}`);
    return queue;
  };
  app.openapi(listQueues, async (c) => {
    const stats = await Promise.all([...queues.values()].map(async (q) => ({ name: q.name, maxReceiveCount: q.maxReceiveCount, ...(await q.stats()) })));
    return c.json({ queues: stats }, 200);
  });
  app.openapi(peekDlq, async (c) => {
    const dead = await queueNamed(c.req.valid('param').name).peekDeadLetters(c.req.valid('query').limit);
    return c.json({ messages: dead.map((m) => ({ ...m, sentAt: new Date(m.sentAt).toISOString() })) }, 200);
  });
  app.openapi(redrive, async (c) => {
    const moved = await queueNamed(c.req.valid('param').name).redrive(c.req.valid('query').limit);
    return c.json({ moved }, 200);
  });
}
