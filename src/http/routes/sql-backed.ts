import type { OpenAPIHono } from '@hono/zod-openapi';
import * as z from 'zod';
import { ServiceUnavailableError } from '../../errors.js';
import { ErrorSchema, errorResponses } from '../openapi-common.js';

/**
 * Shared by the routes on the SQL store (users, tasks): their extra error responses and
 * the 503 they answer in a deployment without a store.
 */

const errorContent = (description: string) => ({ description, content: { 'application/json': { schema: ErrorSchema } } });

/** The shared error responses plus 412 (stale `If-Match`) and 503 (no SQL store). */
export const sqlErrorResponses = {
  ...errorResponses,
  412: errorContent('If-Match names a version that is no longer current'),
  503: errorContent('No SQL store is configured here (code sql_not_configured)'),
} as const;

/** The response header every single-record answer carries. */
export const etagHeader = z.object({ ETag: z.string().describe('The version, quoted: "3"') });

/**
 * Answers every request under `prefix` with 503 `sql_not_configured` when `service` is
 * absent (the SQL store is not configured, e.g. in a worker-only deployment), before
 * validation, so the client learns the real reason whatever it sent.
 */
export function requireSqlStore(app: OpenAPIHono, prefix: string, service: unknown): void {
  if (service !== undefined) return;
  const unavailable = async (): Promise<never> => {
    throw new ServiceUnavailableError('sql_not_configured', `${prefix} needs the SQL store, and none is configured (set DATABASE_URL or SPOOL_DSQL_ENDPOINT, or run the embedded backend)`);
  };
  app.use(prefix, unavailable);
  app.use(`${prefix}/*`, unavailable);
}

/** The service, known to be present once {@link requireSqlStore} has let the request through. */
export function present<T>(service: T | undefined): T {
  if (service === undefined) throw new ServiceUnavailableError('sql_not_configured', 'the SQL store is not configured');
  return service;
}
