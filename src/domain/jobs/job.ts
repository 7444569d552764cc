/**
 * A job as the status table holds it. Status moves `queued` -> `processing` ->
 * `completed` | `failed`; a failed attempt that will be retried goes back to `queued`,
 * and a redriven `failed` job starts over at `processing`.
 */
export interface Job {
  readonly jobId: string;
  readonly task: string;
  readonly status: JobStatus;
  /** Deliveries so far (the queue's receive count of the latest attempt). */
  readonly attempts: number;
  /** ISO 8601. */
  readonly createdAt: string;
  readonly updatedAt: string;
  /** The result document's output, inlined when small (see {@link INLINE_RESULT_MAX_BYTES}). */
  readonly result?: unknown;
  /** Where the full result document is served, once completed. */
  readonly resultUrl?: string;
  /** The error of the latest failed attempt. */
  readonly error?: string;
}

export const JOB_STATUSES = ['queued', 'processing', 'completed', 'failed'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

/** Statuses from which a delivery may (re)start processing; `completed` is final. */
export const STARTABLE: readonly JobStatus[] = ['queued', 'processing', 'failed'];

/** Results up to this size are also inlined in the status record. */
export const INLINE_RESULT_MAX_BYTES = 8 * 1024;

/** What travels on the jobs queue: everything a worker needs, so it never depends on the API's write. */
export interface JobMessage {
  readonly jobId: string;
  readonly task: string;
  readonly data: unknown;
  readonly createdAt: string;
  readonly callbackUrl?: string;
}

/** Object-store key of a job's result document. */
export const resultKey = (jobId: string): string => `results/${jobId}.json`;
