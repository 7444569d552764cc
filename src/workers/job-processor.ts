import * as z from 'zod';
import { ConditionFailedError, ValidationError } from '../errors.js';
import type { Clock } from '../ports/clock.js';
import type { ObjectStore } from '../ports/object-store.js';
import type { DeadLetter, Queue } from '../ports/queue.js';
import type { AttributeValue, Item, Table } from '../ports/table.js';
import { INLINE_RESULT_MAX_BYTES, resultKey, STARTABLE, type Job, type JobMessage, type JobStatus } from '../domain/jobs/job.js';
import { jobFromItem, jobItem, jobKey, statusIndex } from '../domain/jobs/job-records.js';
import { JOB_TYPES } from '../domain/jobs/job-types/index.js';
import { callbackMessage } from './callback-delivery.js';
import type { RecordHandler } from './queue-record.js';

const JobMessageSchema = z.object({
  jobId: z.uuid(),
  task: z.string(),
  data: z.unknown(),
  createdAt: z.iso.datetime(),
  callbackUrl: z.url().optional(),
});

export interface JobProcessorDeps {
  readonly jobs: Table;
  readonly results: ObjectStore;
  readonly callbacks: Queue;
  readonly clock: Clock;
}

/**
 * The job worker: `queued` -> `processing` -> result document -> `completed`, or, on the
 * last attempt, `failed`. Safe under redelivery: a completed job is acknowledged without
 * running again, and the result document is written at most once per job id.
 */
export function createJobProcessor(deps: JobProcessorDeps): RecordHandler {
  const iso = () => new Date(deps.clock.now()).toISOString();
  const startable = [{ kind: 'in' as const, attribute: 'status', values: STARTABLE }];

  /** Moves the record to `status` if it exists with a startable status; undefined if it does not. */
  const changeStatus = async (message: JobMessage, status: JobStatus, changes: Record<string, unknown>): Promise<Item | undefined> => {
    try {
      return await deps.jobs.update(
        jobKey(message.jobId),
        { ...statusIndex(status, message.createdAt, message.jobId), updatedAt: iso(), ...changes } as Record<string, AttributeValue | undefined>,
        { conditions: startable },
      );
    } catch (error) {
      if (error instanceof ConditionFailedError) return undefined;
      throw error;
    }
  };
  /** `changeStatus`, as the public view; undefined when another delivery completed the job meanwhile (nothing left to do). */
  const setStatus = async (message: JobMessage, status: JobStatus, changes: Record<string, unknown>): Promise<Job | undefined> => {
    const item = await changeStatus(message, status, changes);
    return item === undefined ? undefined : jobFromItem(item);
  };
  /**
   * `queued`/`failed`/`processing` -> `processing`; false when the job is completed already. The
   * update is tried first (one table operation in the usual case); only when its condition
   * fails is the record read, and created from the message if it is missing (the API's write
   * was lost, or the worker was faster).
   */
  const start = async (message: JobMessage, attempt: number): Promise<boolean> => {
    if ((await changeStatus(message, 'processing', { attempts: attempt })) !== undefined) return true;
    const current = await deps.jobs.get(jobKey(message.jobId));
    if (current?.['status'] === 'completed') return false;
    // Missing, or written by the API between the update and this read (on SQS the message is sent before the record is put).
    if (current === undefined) await createFromMessage(deps.jobs, message, iso());
    return (await changeStatus(message, 'processing', { attempts: attempt })) !== undefined;
  };

  return async (record, attempt) => {
    const parsed = JobMessageSchema.safeParse(safeJson(record.body));
    if (!parsed.success) throw new ValidationError('malformed job message', parsed.error.issues);
    const message = parsed.data as JobMessage;
    const type = JOB_TYPES.get(message.task);
    if (type === undefined) throw new ValidationError(`unknown task ${message.task}`);

    if (!(await start(message, attempt.number))) return;

    try {
      const output = await type.run(type.schema.parse(message.data), { jobId: message.jobId, attempt: attempt.number, signal: attempt.signal });
      const stored = await storeResultOnce(deps.results, message, output, iso());
      const inline = JSON.stringify(stored.output ?? null);
      const done = await setStatus(message, 'completed', {
        resultUrl: `/jobs/${message.jobId}/result`,
        result: Buffer.byteLength(inline) <= INLINE_RESULT_MAX_BYTES ? stored.output : undefined,
        error: undefined,
      });
      if (done !== undefined && message.callbackUrl !== undefined) await deps.callbacks.send([callbackMessage(message.callbackUrl, done)]);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      const after = await setStatus(message, attempt.final ? 'failed' : 'queued', { error: reason.slice(0, 2000) });
      if (attempt.final && after !== undefined && message.callbackUrl !== undefined) {
        await deps.callbacks.send([callbackMessage(message.callbackUrl, after)]);
      }
      throw error;
    }
  };
}

async function createFromMessage(jobs: Table, message: JobMessage, now: string): Promise<void> {
  try {
    await jobs.put(jobItem({ jobId: message.jobId, task: message.task, status: 'queued', attempts: 0, createdAt: message.createdAt, updatedAt: now }), {
      conditions: [{ kind: 'notExists' }],
    });
  } catch (error) {
    if (!(error instanceof ConditionFailedError)) throw error;
  }
}

/** Writes the result document unless an earlier attempt already did; returns the stored one. */
async function storeResultOnce(results: ObjectStore, message: JobMessage, output: unknown, now: string): Promise<{ output: unknown }> {
  const document = { jobId: message.jobId, task: message.task, completedAt: now, output: output ?? null };
  try {
    await results.put(resultKey(message.jobId), JSON.stringify(document), { contentType: 'application/json', ifNotExists: true });
    return document;
  } catch (error) {
    if (!(error instanceof ConditionFailedError)) throw error;
    const existing = await results.get(resultKey(message.jobId));
    return existing === undefined ? document : (JSON.parse(Buffer.from(existing.body).toString('utf8')) as { output: unknown });
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * For the dead-letter reconciler: a job whose message was dead-lettered without its last
 * attempt failing in the handler (the worker died each time) becomes `failed`, and its
 * callback, if any, is sent. A job that completed or already failed is left alone.
 */
export function failDeadLetteredJob(deps: Pick<JobProcessorDeps, 'jobs' | 'callbacks' | 'clock'>): (letter: DeadLetter) => Promise<void> {
  return async (letter) => {
    const parsed = JobMessageSchema.safeParse(safeJson(letter.body));
    if (!parsed.success) return;
    const message = parsed.data as JobMessage;
    try {
      const item = await deps.jobs.update(
        jobKey(message.jobId),
        {
          ...statusIndex('failed', message.createdAt, message.jobId),
          updatedAt: new Date(deps.clock.now()).toISOString(),
          attempts: letter.receiveCount,
          error: 'delivery attempts exhausted: the worker stopped during its last attempt',
        },
        { conditions: [{ kind: 'in', attribute: 'status', values: ['queued', 'processing'] }] },
      );
      if (message.callbackUrl !== undefined) await deps.callbacks.send([callbackMessage(message.callbackUrl, jobFromItem(item))]);
    } catch (error) {
      if (!(error instanceof ConditionFailedError)) throw error;
    }
  };
}
