import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import * as z from 'zod';
import { IdempotencyKey, JobId, JobList, JobView, ListJobsQuery, SubmitJobRequest, SubmitJobResponse } from '../../domain/jobs/job-schemas.js';
import type { JobService } from '../../domain/jobs/job-service.js';
import { errorResponses, jsonBody, jsonResponse } from '../openapi-common.js';

const submitRoute = (path: '/submit' | '/jobs') =>
  createRoute({
    method: 'post',
    path,
    tags: ['jobs'],
    summary: path === '/submit' ? 'Submit a job (recipe path)' : 'Submit a job',
    request: {
      headers: z.object({ 'idempotency-key': IdempotencyKey.optional() }),
      body: jsonBody(SubmitJobRequest),
    },
    responses: {
      202: jsonResponse('Accepted: the job is durably queued', SubmitJobResponse),
      200: jsonResponse('The job an earlier request with the same Idempotency-Key created', SubmitJobResponse),
      ...errorResponses,
    },
  });

const jobParams = z.object({ jobId: JobId });

const statusRoute = (path: '/status/{jobId}' | '/jobs/{jobId}') =>
  createRoute({
    method: 'get',
    path,
    tags: ['jobs'],
    summary: 'Status of a job',
    request: { params: jobParams },
    responses: { 200: jsonResponse('The job', JobView), ...errorResponses },
  });

const resultRoute = createRoute({
  method: 'get',
  path: '/jobs/{jobId}/result',
  tags: ['jobs'],
  summary: 'Result document of a completed job',
  request: { params: jobParams },
  responses: { 200: jsonResponse('The result document', z.object({ jobId: JobId, task: z.string(), completedAt: z.string(), output: z.unknown() })), ...errorResponses },
});

const listRoute = createRoute({
  method: 'get',
  path: '/jobs',
  tags: ['jobs'],
  summary: 'Jobs with a status, newest first',
  request: { query: ListJobsQuery },
  responses: { 200: jsonResponse('A page of jobs', JobList), ...errorResponses },
});

/** `POST /submit|/jobs`, `GET /status/{id}|/jobs/{id}`, `GET /jobs/{id}/result`, `GET /jobs`. */
export function registerJobRoutes(app: OpenAPIHono, jobs: JobService): void {
  for (const path of ['/submit', '/jobs'] as const) {
    app.openapi(submitRoute(path), async (c) => {
      const { job, created } = await jobs.submit(c.req.valid('json'), c.req.valid('header')['idempotency-key']);
      c.header('Location', `/status/${job.jobId}`);
      return c.json({ jobId: job.jobId, status: job.status, createdAt: job.createdAt }, created ? 202 : 200);
    });
  }
  for (const path of ['/status/{jobId}', '/jobs/{jobId}'] as const) {
    app.openapi(statusRoute(path), async (c) => c.json(await jobs.get(c.req.valid('param').jobId), 200));
  }
  app.openapi(resultRoute, async (c) => {
    const body = await jobs.getResult(c.req.valid('param').jobId);
    return c.body(Buffer.from(body).toString('utf8'), 200, { 'content-type': 'application/json' }) as never;
  });
  app.openapi(listRoute, async (c) => c.json(await jobs.list(c.req.valid('query')), 200));
}
