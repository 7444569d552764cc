import type { Item, ItemKey } from '../../ports/table.js';
import type { Job, JobStatus } from './job.js';

/** Single-table keys for jobs: `JOB#{id}`, indexed by status, newest first. */
export const jobKey = (jobId: string): ItemKey => ({ pk: `JOB#${jobId}`, sk: 'JOB' });

/** The index attributes that must change with the status. */
export const statusIndex = (status: JobStatus, createdAt: string, jobId: string) => ({
  status,
  gsi1pk: `STATUS#${status}`,
  gsi1sk: `${createdAt}#${jobId}`,
});

/** Builds a new status record (attributes that are undefined are left out). */
export function jobItem(job: Job, extra: Record<string, string | undefined> = {}): Item {
  // Built by assignment rather than spreads and `delete`: it runs once per submitted job, and
  // an object that had properties deleted is slower to serialise.
  const item: Record<string, unknown> = { pk: `JOB#${job.jobId}`, sk: 'JOB' };
  for (const [k, v] of Object.entries(job)) if (v !== undefined) item[k] = v;
  item['status'] = job.status;
  item['gsi1pk'] = `STATUS#${job.status}`;
  item['gsi1sk'] = `${job.createdAt}#${job.jobId}`;
  for (const [k, v] of Object.entries(extra)) if (v !== undefined) item[k] = v;
  return item as Item;
}

/** The public view of a status record. */
export function jobFromItem(item: Item): Job {
  const job: Job = {
    jobId: String(item['jobId']),
    task: String(item['task']),
    status: item['status'] as JobStatus,
    attempts: Number(item['attempts'] ?? 0),
    createdAt: String(item['createdAt']),
    updatedAt: String(item['updatedAt']),
  };
  const optional: Partial<Record<'result' | 'resultUrl' | 'error', unknown>> = {};
  if (item['result'] !== undefined) optional.result = item['result'];
  if (item['resultUrl'] !== undefined) optional.resultUrl = item['resultUrl'];
  if (item['error'] !== undefined) optional.error = item['error'];
  return { ...job, ...optional } as Job;
}

/** Idempotency records: one per key, remembering the job and a hash of the body, for 24 h. */
export const idempotencyKey = (key: string): ItemKey => ({ pk: `IDEMPOTENCY#${key}`, sk: 'IDEMPOTENCY' });
export const IDEMPOTENCY_TTL_SECONDS = 24 * 3600;
