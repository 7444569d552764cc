import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { NotFoundError, ValidationError } from '../errors.js';
import type { EventEnvelope, EventHandler } from '../ports/event-bus.js';
import { InboundTaskEvent } from '../domain/tasks/task-events.js';
import type { TaskService } from '../domain/tasks/task-service.js';

export interface TaskEventProcessorDeps {
  readonly tasks: TaskService;
  readonly logger: Logger;
}

/**
 * The task processor of the collaborative task-management recipe: the target of rule
 * `task-processing-rule`. It applies `task.management` events to the tasks store.
 *
 * - An event this system published (it names `taskId` and the `version` the change made)
 *   is already applied; the processor only logs it. So the API's own events never loop.
 * - `task.created` without a `taskId` (an event put from outside, as in the recipe's test)
 *   creates the task, with an id derived from the event id: a redelivered event finds its
 *   task and creates nothing.
 * - `task.updated` / `task.completed` / `task.deleted` without a `version` apply the change
 *   (completed sets the status to `done`); a delete of a missing task is already done.
 * - A detail that is not a valid task event fails the delivery (ValidationError): it is
 *   retried, then lands in the target's dead-letter queue with one alert, never dropped silently.
 *
 * Changes are attributed to `detail.actor`; else a create to `taskData.created_by` (one of the two
 * is required, as `created_by` or `X-Actor` is over HTTP) and any other change to `event:<source>`.
 *
 * @example
 * handlers.set('task-processor', createTaskEventProcessor({ tasks, logger }));
 */
export function createTaskEventProcessor(deps: TaskEventProcessorDeps): EventHandler {
  return async (event) => {
    const parsed = InboundTaskEvent.safeParse(event.detail);
    if (!parsed.success) throw new ValidationError(`event ${event.id} is not a valid ${event['detail-type']} event`, parsed.error.issues);
    const detail = parsed.data;
    const log = deps.logger.child({ eventId: event.id, eventType: detail.eventType });

    if (detail.eventType === 'task.created') {
      if (detail.taskId !== undefined) return log.debug({ taskId: detail.taskId }, 'task event already applied');
      // As over HTTP, a task needs a creator: taskData.created_by, or the event's actor (X-Actor's counterpart).
      const { task, created } = await deps.tasks.createOnce(taskIdForEvent(event), detail.taskData, detail.actor === undefined ? {} : { actor: detail.actor });
      return log.info({ taskId: task.id, created }, created ? 'task created from event' : 'task from this event exists');
    }
    const actor = detail.actor ?? `event:${event.source}`;
    if (detail.version !== undefined) {
      return log.debug({ taskId: detail.taskId, version: detail.version }, 'task event already applied');
    }
    try {
      if (detail.eventType === 'task.deleted') await deps.tasks.delete(detail.taskId, { actor });
      else await deps.tasks.update(detail.taskId, detail.eventType === 'task.completed' ? { status: 'done' } : detail.taskData, { actor });
      log.info({ taskId: detail.taskId }, 'task event applied');
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error;
      // Deleting what is gone is done; changing what is gone can never succeed: retrying would only delay the dead letter.
      if (detail.eventType === 'task.deleted') return log.info({ taskId: detail.taskId }, 'task already deleted');
      throw new ValidationError(`event ${event.id}: task ${detail.taskId} does not exist`);
    }
  };
}

/**
 * The id of the task an event creates: a UUID (version 8, RFC 9562's custom layout) from the
 * SHA-256 of the event id, so every delivery of one event names the same task.
 *
 * @example
 * taskIdForEvent({ id: 'a1b2…' } as EventEnvelope); // '3f2a…-…-8…-…'
 */
export function taskIdForEvent(event: Pick<EventEnvelope, 'id'>): string {
  const bytes = createHash('sha256').update(`task.created:${event.id}`).digest().subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x80;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
