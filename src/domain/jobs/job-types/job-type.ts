import type { z } from 'zod';

/**
 * A kind of work a job can do. Each lives in its own file and is listed in
 * `job-types/index.ts`; its `schema` validates the submitted `data` at the API, and
 * again in the worker before `run`.
 */
export interface JobType<S extends z.ZodType = z.ZodType> {
  readonly name: string;
  readonly description: string;
  readonly schema: S;
  /** Returns the output stored in the result document; throws to fail the attempt. */
  run(data: z.infer<S>, context: JobContext): Promise<unknown>;
}

export interface JobContext {
  readonly jobId: string;
  /** 1 on the first delivery. */
  readonly attempt: number;
  /** Aborted when the handler timeout passes or the process shuts down. */
  readonly signal: AbortSignal;
}

/** Identity helper that keeps the schema's type for `run`. */
export const defineJobType = <S extends z.ZodType>(type: JobType<S>): JobType<S> => type;
