import type { JobType } from './job-type.js';
import { echo } from './echo.js';
import { fail } from './fail.js';
import { processData } from './process-data.js';
import { sleep } from './sleep.js';

/** Every registered job type, by name. Add a type: write its file, list it here. */
export const JOB_TYPES: ReadonlyMap<string, JobType> = new Map<string, JobType>(
  [processData, echo, sleep, fail].map((t) => [t.name, t as unknown as JobType]),
);

/** The task used when a submission names none (the data-pipeline recipe sends only `data`). */
export const DEFAULT_TASK = processData.name;

export type { JobType, JobContext } from './job-type.js';
