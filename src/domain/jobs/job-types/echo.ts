import * as z from 'zod';
import { defineJobType } from './job-type.js';

/** Returns its data unchanged: the cheapest job, used by benchmarks and smoke tests. */
export const echo = defineJobType({
  name: 'echo',
  description: 'Return the submitted data unchanged.',
  schema: z.unknown(),
  async run(data) {
    return data ?? null;
  },
});
