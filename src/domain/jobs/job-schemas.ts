import * as z from 'zod';
import { MAX_DELAY_SECONDS } from '../../ports/queue.js';
import { JOB_STATUSES } from './job.js';

/** How deep job data may nest (arrays and objects). */
export const MAX_DATA_DEPTH = 32;

/** Nesting depth of a JSON value, computed without recursion (a scalar is 0). */
export function jsonDepth(value: unknown): number {
  let deepest = 0;
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    deepest = Math.max(deepest, depth + 1);
    if (deepest > MAX_DATA_DEPTH) return deepest;
    for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push([child, depth + 1]);
  }
  return deepest;
}

/** Body of `POST /submit` and `POST /jobs`. Unknown fields are rejected so typos are not silently ignored. */
export const SubmitJobRequest = z.strictObject({
  task: z.string().min(1).max(64).optional().describe('Registered job type; defaults to process_data'),
  // Any JSON value (the body is JSON already); each task's own schema validates it. The depth
  // bound keeps recursive validators and serialisers off the edge of the stack.
  data: z
    .unknown()
    .refine((v) => jsonDepth(v) <= MAX_DATA_DEPTH, `data may be nested at most ${MAX_DATA_DEPTH} levels deep`)
    .optional()
    .describe("The job's input, validated by the task's own schema"),
  delaySeconds: z.number().int().min(0).max(MAX_DELAY_SECONDS).optional().describe('Wait this long before the job may start'),
  callbackUrl: z
    .url({ protocol: /^https?$/ })
    .max(2048)
    .optional()
    .describe('POSTed the final status, signed with HMAC-SHA256 in X-Spool-Signature'),
});
export type SubmitJobRequest = z.infer<typeof SubmitJobRequest>;


export const JobId = z.uuid().describe('Job id (UUID)');

export const SubmitJobResponse = z.object({
  jobId: JobId,
  status: z.enum(JOB_STATUSES),
  createdAt: z.string(),
});

export const JobView = z.object({
  jobId: JobId,
  task: z.string(),
  status: z.enum(JOB_STATUSES),
  attempts: z.number().int(),
  createdAt: z.string(),
  updatedAt: z.string(),
  result: z.unknown().optional(),
  resultUrl: z.string().optional(),
  error: z.string().optional(),
});

export const ListJobsQuery = z.strictObject({
  status: z.enum(JOB_STATUSES).describe('Required: jobs are indexed by status (see docs/decisions.md)'),
  limit: z.coerce.number().int().min(1).max(100).default(50),
  cursor: z.string().max(2048).optional(),
});
export type ListJobsQuery = z.infer<typeof ListJobsQuery>;

export const JobList = z.object({ items: z.array(JobView), cursor: z.string().optional() });

/** `Idempotency-Key` header: 1..128 visible ASCII characters. */
export const IdempotencyKey = z.string().regex(/^[\x21-\x7e]{1,128}$/, 'Idempotency-Key must be 1..128 visible ASCII characters');
