import * as z from 'zod';
import { defineJobType } from './job-type.js';

/** Always throws `message`: for trying retries, the DLQ, alerts and redrive. */
export const fail = defineJobType({
  name: 'fail',
  description: 'Always fail with {"message"}: exercises retries, the dead-letter queue and alerts.',
  schema: z.strictObject({ message: z.string().min(1).max(1000) }).default({ message: 'failed on purpose' }),
  async run(data) {
    throw new Error(data.message);
  },
});
