import { createHash, randomUUID } from 'node:crypto';
import { ConditionFailedError, ConflictError, NotFoundError, ValidationError } from '../../errors.js';
import type { Clock } from '../../ports/clock.js';
import type { ObjectStore } from '../../ports/object-store.js';
import type { Queue } from '../../ports/queue.js';
import type { Table, WriteOptions } from '../../ports/table.js';
import type { Job, JobMessage } from './job.js';
import { resultKey } from './job.js';
import { IDEMPOTENCY_TTL_SECONDS, idempotencyKey, jobFromItem, jobItem, jobKey } from './job-records.js';
import type { ListJobsQuery, SubmitJobRequest } from './job-schemas.js';
import { DEFAULT_TASK, JOB_TYPES } from './job-types/index.js';

export interface JobServiceDeps {
  readonly jobs: Table;
  readonly queue: Queue;
  readonly results: ObjectStore;
  readonly clock: Clock;
  readonly newId?: () => string;
}

const NOT_EXISTS: WriteOptions = { conditions: [{ kind: 'notExists' }] };

/** What `submit` did: `created` is false when an idempotency key returned an earlier job. */
export interface Submission {
  readonly job: Job;
  readonly created: boolean;
}

/**
 * The API side of jobs: accept, read, list. Accepting sends the message first and writes
 * the status record second, so a crash between the two leaves a message that the worker
 * completes (it creates the record if missing), never a `queued` record with no message.
 * On a queue with `sendWithItem` (embedded) both go in one transaction, message
 * first: there is no "between", and the record is written only if the message is.
 */
export class JobService {
  private readonly newId: () => string;

  constructor(private readonly deps: JobServiceDeps) {
    this.newId = deps.newId ?? randomUUID;
  }

  async submit(request: SubmitJobRequest, idempotency?: string): Promise<Submission> {
    const task = request.task ?? DEFAULT_TASK;
    const type = JOB_TYPES.get(task);
    if (type === undefined) {
      throw new ValidationError(`unknown task ${JSON.stringify(task)}`, { knownTasks: [...JOB_TYPES.keys()] });
    }
    const parsed = type.schema.safeParse(request.data);
    if (!parsed.success) throw new ValidationError(`invalid data for task ${task}`, parsed.error.issues);

    let jobId = this.newId();
    let resumed = false;
    if (idempotency !== undefined) {
      const earlier = await this.claimIdempotencyKey(idempotency, request, jobId);
      if (earlier !== undefined) {
        resumed = true;
        const existing = await this.deps.jobs.get(jobKey(earlier));
        if (existing !== undefined) return { job: jobFromItem(existing), created: false };
        // The first attempt died between claiming the key and accepting the job: finish it now.
        jobId = earlier;
      }
    }
    const now = new Date(this.deps.clock.now()).toISOString();
    const message: JobMessage = { jobId, task, data: request.data ?? null, createdAt: now, ...(request.callbackUrl ? { callbackUrl: request.callbackUrl } : {}) };
    const outgoing = [{ body: JSON.stringify(message), delaySeconds: request.delaySeconds ?? 0 }];
    const job: Job = { jobId, task, status: 'queued', attempts: 0, createdAt: now, updatedAt: now };
    // A record the worker already created (it was faster) is fine: a failed not-exists condition is not an error.
    if (this.deps.queue.sendWithItem !== undefined) {
      await this.deps.queue.sendWithItem(outgoing, this.deps.jobs, jobItem(job), NOT_EXISTS);
    } else {
      await this.deps.queue.send(outgoing);
      try {
        await this.deps.jobs.put(jobItem(job), NOT_EXISTS);
      } catch (error) {
        if (!(error instanceof ConditionFailedError)) throw error;
      }
    }
    return { job, created: !resumed };
  }

  async get(jobId: string): Promise<Job> {
    const item = await this.deps.jobs.get(jobKey(jobId));
    if (item === undefined) throw new NotFoundError(`job ${jobId} not found`);
    return jobFromItem(item);
  }

  /** The result document; NotFoundError until the job has completed. */
  async getResult(jobId: string): Promise<Uint8Array> {
    const object = await this.deps.results.get(resultKey(jobId));
    if (object === undefined) throw new NotFoundError(`no result for job ${jobId} (yet)`);
    return object.body;
  }

  async list(query: ListJobsQuery): Promise<{ items: Job[]; cursor?: string }> {
    const page = await this.deps.jobs.query({
      index: 'gsi1',
      partition: `STATUS#${query.status}`,
      descending: true,
      limit: query.limit,
      ...(query.cursor === undefined ? {} : { cursor: query.cursor }),
    });
    return { items: page.items.map(jobFromItem), ...(page.cursor === undefined ? {} : { cursor: page.cursor }) };
  }

  /**
   * Claims `key` for `jobId`. Returns undefined when the claim is new, or the job id the
   * key already stands for; ConflictError when it was used with a different body.
   */
  private async claimIdempotencyKey(key: string, request: SubmitJobRequest, jobId: string): Promise<string | undefined> {
    const bodyHash = createHash('sha256').update(canonicalJson(request)).digest('hex');
    const expiresAt = Math.floor(this.deps.clock.now() / 1000) + IDEMPOTENCY_TTL_SECONDS;
    try {
      await this.deps.jobs.put({ ...idempotencyKey(key), jobId, bodyHash, expiresAt }, { conditions: [{ kind: 'notExists' }] });
      return undefined;
    } catch (error) {
      if (!(error instanceof ConditionFailedError)) throw error;
    }
    const existing = await this.deps.jobs.get(idempotencyKey(key));
    if (existing === undefined) return this.claimIdempotencyKey(key, request, jobId);
    if (existing['bodyHash'] !== bodyHash) {
      throw new ConflictError('Idempotency-Key was already used with a different request body', { jobId: existing['jobId'] });
    }
    return String(existing['jobId']);
  }
}

/** JSON with object keys sorted, so `{a,b}` and `{b,a}` hash the same. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}
