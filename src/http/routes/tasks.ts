import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import * as z from 'zod';
import {
  ActivityList,
  Actor,
  CommentList,
  CommentView,
  CreateCommentRequest,
  CreateTaskRequest,
  ListTaskItemsQuery,
  ListTasksQuery,
  TaskId,
  TaskList,
  TaskView,
  UpdateTaskRequest,
} from '../../domain/tasks/task-schemas.js';
import type { TaskService } from '../../domain/tasks/task-service.js';
import { etagOf, IfMatchHeader, parseIfMatch } from '../conditional-requests.js';
import { jsonBody, jsonResponse } from '../openapi-common.js';
import { etagHeader, present, requireSqlStore, sqlErrorResponses } from './sql-backed.js';

const params = z.object({ id: TaskId });
const XActor = Actor.optional().describe('Who makes the change, for the activity history (default: created_by / author, else "anonymous")');
const actorHeaders = z.object({ 'x-actor': XActor });
const writeHeaders = z.object({ 'x-actor': XActor, 'if-match': IfMatchHeader.optional() });
const withEtag = (description: string) => ({ ...jsonResponse(description, TaskView), headers: etagHeader });

const createTask = createRoute({
  method: 'post',
  path: '/tasks',
  tags: ['tasks'],
  summary: 'Create a task',
  request: { headers: actorHeaders, body: jsonBody(CreateTaskRequest) },
  responses: { 201: withEtag('Created'), ...sqlErrorResponses },
});

const listTasks = createRoute({
  method: 'get',
  path: '/tasks',
  tags: ['tasks'],
  summary: 'Tasks, newest first (created_at then id, descending), filtered by status and assignee',
  request: { query: ListTasksQuery },
  responses: { 200: jsonResponse('A page of tasks', TaskList), ...sqlErrorResponses },
});

const getTask = createRoute({
  method: 'get',
  path: '/tasks/{id}',
  tags: ['tasks'],
  summary: 'A task',
  request: { params },
  responses: { 200: withEtag('The task'), ...sqlErrorResponses },
});

const updateTask = createRoute({
  method: 'patch',
  path: '/tasks/{id}',
  tags: ['tasks'],
  summary: 'Change some fields of a task (optionally only at an If-Match version)',
  request: { params, headers: writeHeaders, body: jsonBody(UpdateTaskRequest) },
  responses: { 200: withEtag('The task as changed'), ...sqlErrorResponses },
});

const deleteTask = createRoute({
  method: 'delete',
  path: '/tasks/{id}',
  tags: ['tasks'],
  summary: 'Delete a task and its comments; its activity history stays',
  request: { params, headers: writeHeaders },
  responses: { 204: { description: 'Deleted' }, ...sqlErrorResponses },
});

const addComment = createRoute({
  method: 'post',
  path: '/tasks/{id}/comments',
  tags: ['tasks'],
  summary: 'Comment on a task',
  request: { params, headers: actorHeaders, body: jsonBody(CreateCommentRequest) },
  responses: { 201: jsonResponse('Created', CommentView), ...sqlErrorResponses },
});

const listComments = createRoute({
  method: 'get',
  path: '/tasks/{id}/comments',
  tags: ['tasks'],
  summary: 'Comments on a task, oldest first',
  request: { params, query: ListTaskItemsQuery },
  responses: { 200: jsonResponse('A page of comments', CommentList), ...sqlErrorResponses },
});

const listActivity = createRoute({
  method: 'get',
  path: '/tasks/{id}/activity',
  tags: ['tasks'],
  summary: 'Who changed what and when, oldest first (kept after the task is deleted)',
  request: { params, query: ListTaskItemsQuery },
  responses: { 200: jsonResponse('A page of activity entries', ActivityList), ...sqlErrorResponses },
});

/**
 * Tasks CRUD with comments and activity (the collaborative task-management recipe).
 * Every answer carrying one task has `ETag: "<version>"`; PATCH and DELETE honour
 * `If-Match` (412 when stale). Without `tasks` (no SQL store) every route answers 503.
 */
export function registerTaskRoutes(app: OpenAPIHono, tasks: TaskService | undefined): void {
  requireSqlStore(app, '/tasks', tasks);
  app.openapi(createTask, async (c) => {
    const task = await present(tasks).create(c.req.valid('json'), actorOf(c.req.valid('header')));
    c.header('Location', `/tasks/${task.id}`);
    c.header('ETag', etagOf(task.version));
    return c.json(task, 201);
  });
  app.openapi(listTasks, async (c) => c.json(await present(tasks).list(c.req.valid('query')), 200));
  app.openapi(getTask, async (c) => {
    const task = await present(tasks).get(c.req.valid('param').id);
    c.header('ETag', etagOf(task.version));
    return c.json(task, 200);
  });
  app.openapi(updateTask, async (c) => {
    const headers = c.req.valid('header');
    const task = await present(tasks).update(c.req.valid('param').id, c.req.valid('json'), { ...actorOf(headers), ...preconditionOf(headers) });
    c.header('ETag', etagOf(task.version));
    return c.json(task, 200);
  });
  app.openapi(deleteTask, async (c) => {
    const headers = c.req.valid('header');
    await present(tasks).delete(c.req.valid('param').id, { ...actorOf(headers), ...preconditionOf(headers) });
    return c.body(null, 204);
  });
  app.openapi(addComment, async (c) => {
    const { id } = c.req.valid('param');
    const comment = await present(tasks).addComment(id, c.req.valid('json'), actorOf(c.req.valid('header')));
    c.header('Location', `/tasks/${id}/comments`);
    return c.json(comment, 201);
  });
  app.openapi(listComments, async (c) => c.json(await present(tasks).listComments(c.req.valid('param').id, c.req.valid('query')), 200));
  app.openapi(listActivity, async (c) => c.json(await present(tasks).listActivity(c.req.valid('param').id, c.req.valid('query')), 200));
}

/** The `X-Actor` header as the service's `actor` (absent when not sent). */
function actorOf(headers: { 'x-actor'?: string | undefined }): { actor?: string } {
  const actor = headers['x-actor'];
  return actor === undefined ? {} : { actor };
}

/** The `If-Match` header as a precondition (400 when malformed). */
function preconditionOf(headers: { 'if-match'?: string | undefined }) {
  const precondition = parseIfMatch(headers['if-match']);
  return precondition === undefined ? {} : { precondition };
}
