import * as z from 'zod';
import type { PutEventsEntry } from '../../ports/event-bus.js';
import { Actor, CreateTaskRequest, TaskId, UpdateTaskRequest, type Activity, type Task } from './task-schemas.js';

/** The `source` of every task event, published or accepted. */
export const TASK_EVENT_SOURCE = 'task.management';

/** EventBridge `detail-type` of each task event kind, as the recipe names them. */
export const TASK_DETAIL_TYPES = {
  'task.created': 'Task Created',
  'task.updated': 'Task Updated',
  'task.completed': 'Task Completed',
  'task.deleted': 'Task Deleted',
} as const;
export type TaskEventType = keyof typeof TASK_DETAIL_TYPES;

/** The pattern of rule `task-processing-rule`: every task event kind from `task.management`. */
export const TASK_PROCESSING_PATTERN = JSON.stringify({ source: [TASK_EVENT_SOURCE], 'detail-type': Object.values(TASK_DETAIL_TYPES) });

/** One committed change of a task: what the activity history recorded, and the task after it (before it, for a delete). */
export interface TaskChange {
  readonly task: Task;
  readonly activity: Activity;
}

/** Told of every committed task change, after the commit (publishing events, waking stream readers). */
export type TaskChangeListener = (change: TaskChange) => Promise<void>;

/**
 * The event type of a change: `task.completed` when it moved the status to `done`,
 * otherwise the action's own type. Comments publish no bus event (no rule routes one);
 * they reach stream readers from the activity history.
 */
export function taskEventType(change: TaskChange): TaskEventType | undefined {
  switch (change.activity.action) {
    case 'created':
      return 'task.created';
    case 'updated':
      return change.activity.changes['status']?.to === 'done' ? 'task.completed' : 'task.updated';
    case 'deleted':
      return 'task.deleted';
    case 'commented':
      return undefined;
  }
}

/**
 * The PutEvents entry announcing a change, in the recipe's shape: detail
 * `{"eventType": "task.updated", "taskId", "version", "actor", "changes", "activityId", "taskData": {...}}`.
 * `taskId` and `version` let the task processor recognise its own system's changes as applied.
 *
 * @example
 * const entry = taskChangeEvent(change, 'task-events-dev');
 * if (entry) await bus.putEvents([entry]);
 */
export function taskChangeEvent(change: TaskChange, eventBusName: string): PutEventsEntry | undefined {
  const eventType = taskEventType(change);
  if (eventType === undefined) return undefined;
  const detail = {
    eventType,
    taskId: change.task.id,
    version: change.task.version,
    actor: change.activity.actor,
    changes: change.activity.changes,
    activityId: change.activity.id,
    taskData: change.task,
  };
  return { source: TASK_EVENT_SOURCE, detailType: TASK_DETAIL_TYPES[eventType], detail: JSON.stringify(detail), eventBusName };
}

/**
 * The detail of a task event put on the bus, by this system or from outside. Unknown
 * fields are ignored (events from other producers carry their own); the fields used are
 * validated as strictly as the HTTP API validates them.
 */
export const InboundTaskEvent = z.discriminatedUnion('eventType', [
  z.object({
    eventType: z.literal('task.created'),
    taskId: TaskId.optional(),
    actor: Actor.optional(),
    // `taskData` as the recipe sends it: the fields of POST /tasks (unknown ones, such as an echo of a whole task, dropped).
    taskData: z.looseObject({}).transform((data) => pick(data, Object.keys(CreateTaskRequest.shape))).pipe(CreateTaskRequest),
  }),
  z.object({
    eventType: z.literal('task.updated'),
    taskId: TaskId,
    version: z.number().int().positive().optional(),
    actor: Actor.optional(),
    taskData: z.looseObject({}).transform((data) => pick(data, UPDATABLE)).pipe(UpdateTaskRequest),
  }),
  z.object({ eventType: z.literal('task.completed'), taskId: TaskId, version: z.number().int().positive().optional(), actor: Actor.optional() }),
  z.object({ eventType: z.literal('task.deleted'), taskId: TaskId, version: z.number().int().positive().optional(), actor: Actor.optional() }),
]);
export type InboundTaskEvent = z.infer<typeof InboundTaskEvent>;

const UPDATABLE = ['title', 'description', 'status', 'priority', 'assignee', 'due_date'];

function pick(data: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(keys.filter((k) => data[k] !== undefined).map((k) => [k, data[k]]));
}
