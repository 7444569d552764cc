import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import * as z from 'zod';
import { CreateUserRequest, ListUsersQuery, UpdateUserRequest, UserId, UserList, UserView } from '../../domain/users/user-schemas.js';
import type { UserService } from '../../domain/users/user-service.js';
import { etagOf, IfMatchHeader, parseIfMatch } from '../conditional-requests.js';
import { jsonBody, jsonResponse } from '../openapi-common.js';
import { etagHeader, present, requireSqlStore, sqlErrorResponses } from './sql-backed.js';

const params = z.object({ id: UserId });
const conditional = z.object({ 'if-match': IfMatchHeader.optional() });
const withEtag = (description: string) => ({ ...jsonResponse(description, UserView), headers: etagHeader });

const createUser = createRoute({
  method: 'post',
  path: '/users',
  tags: ['users'],
  summary: 'Create a user (email unique, case-insensitively)',
  request: { body: jsonBody(CreateUserRequest) },
  responses: { 201: withEtag('Created'), ...sqlErrorResponses },
});

const listUsers = createRoute({
  method: 'get',
  path: '/users',
  tags: ['users'],
  summary: 'Users, newest first (created_at then id, descending), a page at a time',
  request: { query: ListUsersQuery },
  responses: { 200: jsonResponse('A page of users', UserList), ...sqlErrorResponses },
});

const getUser = createRoute({
  method: 'get',
  path: '/users/{id}',
  tags: ['users'],
  summary: 'A user',
  request: { params },
  responses: { 200: withEtag('The user'), ...sqlErrorResponses },
});

const updateUser = createRoute({
  method: 'patch',
  path: '/users/{id}',
  tags: ['users'],
  summary: 'Change some fields of a user (optionally only at an If-Match version)',
  request: { params, headers: conditional, body: jsonBody(UpdateUserRequest) },
  responses: { 200: withEtag('The user as changed'), ...sqlErrorResponses },
});

const deleteUser = createRoute({
  method: 'delete',
  path: '/users/{id}',
  tags: ['users'],
  summary: 'Delete a user (optionally only at an If-Match version)',
  request: { params, headers: conditional },
  responses: { 204: { description: 'Deleted' }, ...sqlErrorResponses },
});

/**
 * `POST /users`, `GET /users`, `GET|PATCH|DELETE /users/{id}` (the multi-region recipe).
 * Without `users` (no SQL store configured) every one of them answers 503.
 */
export function registerUserRoutes(app: OpenAPIHono, users: UserService | undefined): void {
  requireSqlStore(app, '/users', users);
  app.openapi(createUser, async (c) => {
    const user = await present(users).create(c.req.valid('json'));
    c.header('Location', `/users/${user.id}`);
    c.header('ETag', etagOf(user.version));
    return c.json(user, 201);
  });
  app.openapi(listUsers, async (c) => c.json(await present(users).list(c.req.valid('query')), 200));
  app.openapi(getUser, async (c) => {
    const user = await present(users).get(c.req.valid('param').id);
    c.header('ETag', etagOf(user.version));
    return c.json(user, 200);
  });
  app.openapi(updateUser, async (c) => {
    const precondition = parseIfMatch(c.req.valid('header')['if-match']);
    const user = await present(users).update(c.req.valid('param').id, c.req.valid('json'), precondition);
    c.header('ETag', etagOf(user.version));
    return c.json(user, 200);
  });
  app.openapi(deleteUser, async (c) => {
    const precondition = parseIfMatch(c.req.valid('header')['if-match']);
    await present(users).delete(c.req.valid('param').id, precondition);
    return c.body(null, 204);
  });
}
