import * as z from 'zod';
import { PageQuery } from '../shared/page-cursor.js';

export const TASK_STATUSES = ['todo', 'in_progress', 'done'] as const;
export const TASK_PRIORITIES = ['low', 'medium', 'high'] as const;
export type TaskPriority = (typeof TASK_PRIORITIES)[number];
/** What an activity entry records. */
export const TASK_ACTIONS = ['created', 'updated', 'deleted', 'commented'] as const;
export type TaskAction = (typeof TASK_ACTIONS)[number];

export const TaskId = z.uuid().describe('Task id (UUID)');

/**
 * Who does something (`created_by`, `assignee`, a comment's `author`, the `X-Actor`
 * header): a free-form identifier such as an email address or a user id, 1..254
 * characters once trimmed, without control characters. Not checked against the users
 * table: there are no foreign keys on DSQL, and tasks may name people not registered here.
 */
export const Actor = z
  .string()
  .trim()
  .min(1)
  .max(254)
  .regex(/^[^\p{Cc}]*$/u, 'must not contain control characters')
  .describe('A person: email address or user id, 1..254 characters');

const Title = z.string().trim().min(1).max(200).describe('1..200 characters (trimmed)');
const Description = z.string().max(10_000).describe('Up to 10000 characters');
const DueDate = z.iso.date().describe('ISO date, YYYY-MM-DD');

/** Body of `POST /tasks`. `created_by` may come from the `X-Actor` header instead. */
export const CreateTaskRequest = z.strictObject({
  title: Title,
  description: Description.nullable().optional(),
  status: z.enum(TASK_STATUSES).default('todo'),
  priority: z.enum(TASK_PRIORITIES).default('medium'),
  assignee: Actor.nullable().optional(),
  created_by: Actor.optional().describe('Required unless the X-Actor header names the creator'),
  due_date: DueDate.nullable().optional(),
});
export type CreateTaskRequest = z.infer<typeof CreateTaskRequest>;

/** Body of `PATCH /tasks/{id}`: the fields to change (null clears an optional one), at least one. `created_by` is immutable. */
export const UpdateTaskRequest = z
  .strictObject({
    title: Title.optional(),
    description: Description.nullable().optional(),
    status: z.enum(TASK_STATUSES).optional(),
    priority: z.enum(TASK_PRIORITIES).optional(),
    assignee: Actor.nullable().optional(),
    due_date: DueDate.nullable().optional(),
  })
  .refine((patch) => Object.keys(patch).length > 0, 'give at least one field to change: title, description, status, priority, assignee, due_date');
export type UpdateTaskRequest = z.infer<typeof UpdateTaskRequest>;

export const TaskView = z.object({
  id: TaskId,
  title: z.string(),
  description: z.string().nullable(),
  status: z.enum(TASK_STATUSES),
  priority: z.enum(TASK_PRIORITIES),
  assignee: z.string().nullable(),
  created_by: z.string(),
  due_date: z.string().nullable(),
  created_at: z.string().describe('ISO-8601 UTC'),
  updated_at: z.string().describe('ISO-8601 UTC'),
  version: z.number().int().describe('1 at creation, +1 per change; the ETag is this number, quoted'),
});
export type Task = z.infer<typeof TaskView>;

/** `GET /tasks`: newest first (`created_at`, then `id`, descending), optionally filtered. */
export const ListTasksQuery = z.strictObject({
  status: z.enum(TASK_STATUSES).optional(),
  assignee: Actor.optional().describe('Only tasks assigned to this person (exact match)'),
  ...PageQuery,
});
export type ListTasksQuery = z.infer<typeof ListTasksQuery>;

export const TaskList = z.object({ items: z.array(TaskView), cursor: z.string().optional().describe('Present when more tasks follow') });

/** Body of `POST /tasks/{id}/comments`. `author` may come from the `X-Actor` header instead. */
export const CreateCommentRequest = z.strictObject({
  author: Actor.optional().describe('Required unless the X-Actor header names the author'),
  body: z.string().trim().min(1).max(10_000).describe('1..10000 characters (trimmed)'),
});
export type CreateCommentRequest = z.infer<typeof CreateCommentRequest>;

export const CommentView = z.object({
  id: z.uuid(),
  task_id: TaskId,
  author: z.string(),
  body: z.string(),
  created_at: z.string(),
  updated_at: z.string(),
  version: z.number().int(),
});
export type Comment = z.infer<typeof CommentView>;

export const CommentList = z.object({ items: z.array(CommentView), cursor: z.string().optional() });

/** One changed field: its value before and after (null when absent). */
export const FieldChange = z.object({ from: z.unknown(), to: z.unknown() });
export const ActivityChanges = z.record(z.string(), FieldChange);
export type ActivityChanges = z.infer<typeof ActivityChanges>;

export const ActivityView = z.object({
  id: z.uuid(),
  task_id: TaskId,
  actor: z.string().describe('X-Actor of the request, else created_by / author, else "anonymous"'),
  action: z.enum(TASK_ACTIONS),
  changes: ActivityChanges.describe('{field: {from, to}} for every field the action changed'),
  created_at: z.string(),
});
export type Activity = z.infer<typeof ActivityView>;

export const ActivityList = z.object({ items: z.array(ActivityView), cursor: z.string().optional() });

/** `GET /tasks/{id}/comments` and `/activity`: oldest first. */
export const ListTaskItemsQuery = z.strictObject(PageQuery);
export type ListTaskItemsQuery = z.infer<typeof ListTaskItemsQuery>;
