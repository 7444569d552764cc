import { randomUUID } from 'node:crypto';
import { ConflictError, NotFoundError, ValidationError } from '../../errors.js';
import { UniqueViolationError } from '../../ports/sql-errors.js';
import type { Clock } from '../../ports/clock.js';
import type { Sql, SqlTransaction, TaskActivityTable, TasksTable } from '../../ports/sql.js';
import { afterKey, decodeCursor, toPage, type PageKey } from '../shared/page-cursor.js';
import type { TaskChange, TaskChangeListener } from './task-events.js';
import { isoTimestamp, laterOf } from '../shared/timestamps.js';
import { checkVersion, type VersionPrecondition } from '../shared/version-precondition.js';
import {
  ActivityChanges,
  TASK_PRIORITIES,
  type Activity,
  type ActivityChanges as Changes,
  type Comment,
  type CreateCommentRequest,
  type CreateTaskRequest,
  type ListTaskItemsQuery,
  type ListTasksQuery,
  type Task,
  type TaskAction,
  type TaskPriority,
  type UpdateTaskRequest,
} from './task-schemas.js';

export interface TaskServiceDeps {
  readonly sql: Sql;
  readonly clock: Clock;
  readonly newId?: () => string;
  /**
   * Told of each committed change, after the commit and before the write returns (the runtime
   * publishes the task event and wakes stream readers). It must not throw: the change is
   * already durable, and an error here would tell the caller it was not.
   */
  readonly onChange?: TaskChangeListener;
}

/** Who a write is attributed to, and the version it is conditional on. */
export interface WriteContext {
  /** The `X-Actor` header; when absent, the body's `created_by` / `author`, else {@link ANONYMOUS}. */
  readonly actor?: string;
  readonly precondition?: VersionPrecondition;
}

/** The actor of a change nobody claimed (no `X-Actor`, and no `created_by` / `author` to fall back on). */
export const ANONYMOUS = 'anonymous';

/** The fields whose changes the activity history records. */
const TRACKED = ['title', 'description', 'status', 'priority', 'assignee', 'due_date'] as const;
type Tracked = (typeof TRACKED)[number];

/**
 * Tasks of the collaborative task-management recipe, with comments and an activity
 * history, on the SQL store.
 *
 * Concurrency: every write is one `sql.transaction` that reads the task, checks the
 * caller's precondition (`If-Match`), writes `version + 1` and appends the activity row.
 * On DSQL and PostgreSQL (REPEATABLE READ) a concurrent write to the same task makes the
 * transaction fail with a serialization conflict and run again from the read, so two
 * PATCHes of different fields both land, and a stale If-Match is a 412, never a lost update.
 *
 * History and events: each change writes its activity entry in the same transaction as the
 * change (so the history can never disagree with the data, whichever way the change came:
 * the HTTP API or a `task.management` event applied by the task processor). After the
 * commit, `onChange` hears of it: the runtime publishes the task event on the bus and wakes
 * the `/tasks/stream` readers.
 */
export class TaskService {
  private readonly newId: () => string;

  constructor(private readonly deps: TaskServiceDeps) {
    this.newId = deps.newId ?? randomUUID;
  }

  async create(request: CreateTaskRequest, context: Pick<WriteContext, 'actor'> = {}): Promise<Task> {
    const { task, change } = await this.insert(this.newId(), request, context);
    await this.announce(change);
    return task;
  }

  /**
   * Creates the task with id `id` unless it exists, in which case nothing changes and the
   * existing task is returned with `created: false`. The task processor creates tasks from
   * events this way, with an id derived from the event id, so a redelivered event creates one task.
   */
  async createOnce(id: string, request: CreateTaskRequest, context: Pick<WriteContext, 'actor'> = {}): Promise<{ task: Task; created: boolean }> {
    const existing = await this.find(id);
    if (existing !== undefined) return { task: existing, created: false };
    try {
      const { task, change } = await this.insert(id, request, context);
      await this.announce(change);
      return { task, created: true };
    } catch (error) {
      // Two deliveries raced to the insert: the loser finds the winner's task.
      const winner = error instanceof UniqueViolationError ? await this.find(id) : undefined;
      if (winner === undefined) throw error;
      return { task: winner, created: false };
    }
  }

  private async insert(id: string, request: CreateTaskRequest, context: Pick<WriteContext, 'actor'>): Promise<{ task: Task; change: TaskChange }> {
    const createdBy = request.created_by ?? context.actor;
    if (createdBy === undefined) {
      throw new ValidationError('created_by is required: give it in the body or as the X-Actor header', [
        { path: 'created_by', message: 'required', code: 'invalid_type' },
      ]);
    }
    const now = isoTimestamp(this.deps.clock.now());
    const row: TasksTable = {
      id,
      title: request.title,
      description: request.description ?? null,
      status: request.status,
      priority: request.priority,
      assignee: request.assignee ?? null,
      created_by: createdBy,
      due_date: request.due_date ?? null,
      created_at: now,
      updated_at: now,
      version: 1,
    };
    const changes: Changes = { created_by: { from: null, to: createdBy } };
    for (const field of TRACKED) if (row[field] !== null) changes[field] = { from: null, to: row[field] };
    const activity = await this.deps.sql.transaction(async (trx) => {
      await trx.insertInto('tasks').values(row).execute();
      return this.record(trx, row.id, context.actor ?? createdBy, 'created', changes, now);
    });
    const task = toView(row);
    return { task, change: { task, activity } };
  }

  async get(id: string): Promise<Task> {
    const task = await this.find(id);
    if (task === undefined) throw notFound(id);
    return task;
  }

  /** The task, or undefined when there is none with this id. */
  async find(id: string): Promise<Task | undefined> {
    const row = await this.deps.sql.read((db) => db.selectFrom('tasks').selectAll().where('id', '=', id).executeTakeFirst());
    return row === undefined ? undefined : toView(row);
  }

  /** Newest first: `created_at` descending, ties broken by `id` descending. */
  async list(query: ListTasksQuery): Promise<{ items: Task[]; cursor?: string }> {
    const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
    const rows = await this.deps.sql.read((db) => {
      let select = db.selectFrom('tasks').selectAll();
      if (query.status !== undefined) select = select.where('status', '=', query.status);
      if (query.assignee !== undefined) select = select.where('assignee', '=', query.assignee);
      if (after !== undefined) select = select.where(afterKey(after, 'desc'));
      return select.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(query.limit + 1).execute();
    });
    return toPage(rows, query.limit, toView);
  }

  /** Applies the fields of `patch` that differ; a patch that changes nothing changes no version and records nothing. */
  async update(id: string, patch: UpdateTaskRequest, context: WriteContext = {}): Promise<Task> {
    const { task, change } = await this.deps.sql.transaction(async (trx): Promise<{ task: Task; change?: TaskChange }> => {
      const current = await this.readForWrite(trx, id, context.precondition);
      const changes: Changes = {};
      const set: Partial<Pick<TasksTable, Tracked>> = {};
      for (const field of TRACKED) {
        const value = patch[field];
        if (value === undefined || value === current[field]) continue;
        changes[field] = { from: current[field], to: value };
        Object.assign(set, { [field]: value });
      }
      if (Object.keys(changes).length === 0) return { task: toView(current) };
      const at = await this.nextActivityTime(trx, id, current.updated_at);
      const updated: TasksTable = { ...current, ...set, updated_at: at, version: current.version + 1 };
      const result = await trx
        .updateTable('tasks')
        .set({ ...set, updated_at: at, version: updated.version })
        .where('id', '=', id)
        .where('version', '=', current.version)
        .executeTakeFirst();
      // Snapshot isolation turns a concurrent write into a retried conflict first; this is the belt to those braces.
      if (result.numUpdatedRows !== 1n) throw new ConflictError(`task ${id} changed concurrently; retry`);
      const activity = await this.record(trx, id, context.actor ?? ANONYMOUS, 'updated', changes, at);
      const task = toView(updated);
      return { task, change: { task, activity } };
    });
    if (change !== undefined) await this.announce(change);
    return task;
  }

  /**
   * Deletes the task and its comments; its activity history stays (ending with the
   * `deleted` entry, which holds the last values). DSQL caps a transaction at 3,000
   * changed rows, so a task with more comments than that cannot be deleted in one; the
   * task-event processor is where a batched cleanup belongs.
   */
  async delete(id: string, context: WriteContext = {}): Promise<void> {
    const change = await this.deps.sql.transaction(async (trx): Promise<TaskChange> => {
      const current = await this.readForWrite(trx, id, context.precondition);
      const at = await this.nextActivityTime(trx, id, current.updated_at);
      const changes: Changes = {};
      for (const field of TRACKED) if (current[field] !== null) changes[field] = { from: current[field], to: null };
      await trx.deleteFrom('task_comments').where('task_id', '=', id).execute();
      const result = await trx.deleteFrom('tasks').where('id', '=', id).where('version', '=', current.version).executeTakeFirst();
      if (result.numDeletedRows !== 1n) throw new ConflictError(`task ${id} changed concurrently; retry`);
      const activity = await this.record(trx, id, context.actor ?? ANONYMOUS, 'deleted', changes, at);
      return { task: toView(current), activity };
    });
    await this.announce(change);
  }

  /** Adds a comment; the task's own version does not change (commenting does not conflict with editing). */
  async addComment(taskId: string, request: CreateCommentRequest, context: Pick<WriteContext, 'actor'> = {}): Promise<Comment> {
    const author = request.author ?? context.actor;
    if (author === undefined) {
      throw new ValidationError('author is required: give it in the body or as the X-Actor header', [{ path: 'author', message: 'required', code: 'invalid_type' }]);
    }
    const id = this.newId();
    const { comment, change } = await this.deps.sql.transaction(async (trx) => {
      const task = await trx.selectFrom('tasks').selectAll().where('id', '=', taskId).executeTakeFirst();
      if (task === undefined) throw notFound(taskId);
      const at = await this.nextActivityTime(trx, taskId);
      const comment: Comment = { id, task_id: taskId, author, body: request.body, created_at: at, updated_at: at, version: 1 };
      await trx.insertInto('task_comments').values(comment).execute();
      const activity = await this.record(trx, taskId, context.actor ?? author, 'commented', { comment_id: { from: null, to: id } }, at);
      return { comment, change: { task: toView(task), activity } };
    });
    await this.announce(change);
    return comment;
  }

  /** Comments of a task, oldest first. */
  async listComments(taskId: string, query: ListTaskItemsQuery): Promise<{ items: Comment[]; cursor?: string }> {
    const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
    const rows = await this.deps.sql.read(async (db) => {
      const task = await db.selectFrom('tasks').select('id').where('id', '=', taskId).executeTakeFirst();
      if (task === undefined) throw notFound(taskId);
      let select = db.selectFrom('task_comments').selectAll().where('task_id', '=', taskId);
      if (after !== undefined) select = select.where(afterKey(after, 'asc'));
      return select.orderBy('created_at', 'asc').orderBy('id', 'asc').limit(query.limit + 1).execute();
    });
    return toPage(rows, query.limit, (row) => ({ ...row }));
  }

  /**
   * The history of a task, oldest first: who created, changed, commented on or deleted
   * it, and when. Kept after the task is deleted; 404 only for a task that never existed.
   */
  async listActivity(taskId: string, query: ListTaskItemsQuery): Promise<{ items: Activity[]; cursor?: string }> {
    const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
    const rows = await this.deps.sql.read(async (db) => {
      let select = db.selectFrom('task_activity').selectAll().where('task_id', '=', taskId);
      if (after !== undefined) select = select.where(afterKey(after, 'asc'));
      const found = await select.orderBy('created_at', 'asc').orderBy('id', 'asc').limit(query.limit + 1).execute();
      if (found.length === 0 && after === undefined) {
        const task = await db.selectFrom('tasks').select('id').where('id', '=', taskId).executeTakeFirst();
        if (task === undefined) throw notFound(taskId);
      }
      return found;
    });
    return toPage(rows, query.limit, activityView);
  }

  /**
   * Activity entries of every task (or of `query.taskId`) in `(created_at, id)` order, oldest
   * first: those after `query.after` (all when absent) and, when `query.through` is given, not
   * after it; at most `query.limit`. What the change feed of `GET /tasks/stream` reads. An
   * `after` with an empty id starts at its `created_at` inclusive (the empty id sorts first).
   */
  async activityInOrder(query: { readonly after?: PageKey; readonly through?: PageKey; readonly taskId?: string; readonly limit: number }): Promise<Activity[]> {
    const rows = await this.deps.sql.read((db) => {
      let select = db.selectFrom('task_activity').selectAll();
      if (query.taskId !== undefined) select = select.where('task_id', '=', query.taskId);
      // The plain range predicates beside the keyset ones let the (created_at, id) index seek.
      if (query.after !== undefined) select = select.where('created_at', '>=', query.after.createdAt).where(afterKey(query.after, 'asc'));
      const through = query.through;
      if (through !== undefined) {
        select = select
          .where('created_at', '<=', through.createdAt)
          .where((eb) => eb.or([eb('created_at', '<', through.createdAt), eb.and([eb('created_at', '=', through.createdAt), eb('id', '<=', through.id)])]));
      }
      return select.orderBy('created_at', 'asc').orderBy('id', 'asc').limit(query.limit).execute();
    });
    return rows.map(activityView);
  }

  /** The `(created_at, id)` of the newest activity entry (of `taskId`), or undefined when there is none. */
  async latestActivityKey(taskId?: string): Promise<PageKey | undefined> {
    const row = await this.deps.sql.read((db) => {
      let select = db.selectFrom('task_activity').select(['created_at', 'id']);
      if (taskId !== undefined) select = select.where('task_id', '=', taskId);
      return select.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(1).executeTakeFirst();
    });
    return row === undefined ? undefined : { createdAt: row.created_at, id: row.id };
  }

  private async readForWrite(trx: SqlTransaction, id: string, precondition: VersionPrecondition | undefined): Promise<TasksTable> {
    const current = await trx.selectFrom('tasks').selectAll().where('id', '=', id).executeTakeFirst();
    if (current === undefined) throw notFound(id);
    checkVersion(precondition, current.version, `task ${id}`);
    return current;
  }

  /**
   * The timestamp of the next activity entry: now, or 1 ms after the task's latest entry
   * (and `floor`) when the clock has not moved past it, so the history sorts in the order
   * the changes happened even when several land within one millisecond or a region's
   * clock lags.
   */
  private async nextActivityTime(trx: SqlTransaction, taskId: string, floor?: string): Promise<string> {
    const latest = await trx
      .selectFrom('task_activity')
      .select('created_at')
      .where('task_id', '=', taskId)
      .orderBy('created_at', 'desc')
      .limit(1)
      .executeTakeFirst();
    const previous = [latest?.created_at, floor].filter((t): t is string => t !== undefined).sort().at(-1);
    return laterOf(isoTimestamp(this.deps.clock.now()), previous);
  }

  private async record(trx: SqlTransaction, taskId: string, actor: string, action: TaskAction, changes: Changes, at: string): Promise<Activity> {
    const row: TaskActivityTable = { id: this.newId(), task_id: taskId, actor, action, changes: JSON.stringify(changes), created_at: at };
    await trx.insertInto('task_activity').values(row).execute();
    return { id: row.id, task_id: taskId, actor, action, changes, created_at: at };
  }

  private async announce(change: TaskChange): Promise<void> {
    await this.deps.onChange?.(change);
  }
}

function toView(row: TasksTable): Task {
  return {
    id: row.id,
    title: row.title,
    description: row.description,
    status: row.status,
    priority: isPriority(row.priority) ? row.priority : 'medium',
    assignee: row.assignee,
    created_by: row.created_by,
    due_date: row.due_date,
    created_at: row.created_at,
    updated_at: row.updated_at,
    version: row.version,
  };
}

function activityView(row: TaskActivityTable): Activity {
  return {
    id: row.id,
    task_id: row.task_id,
    actor: row.actor,
    action: row.action as TaskAction,
    changes: ActivityChanges.parse(JSON.parse(row.changes)),
    created_at: row.created_at,
  };
}

function isPriority(value: string): value is TaskPriority {
  return (TASK_PRIORITIES as readonly string[]).includes(value);
}

function notFound(id: string): NotFoundError {
  return new NotFoundError(`task ${id} not found`);
}
