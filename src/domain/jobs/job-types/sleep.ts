import { setTimeout as delay } from 'node:timers/promises';
import * as z from 'zod';
import { defineJobType } from './job-type.js';

/** Longest sleep accepted: well under the default handler timeout. */
export const MAX_SLEEP_MS = 30_000;

/** Waits `ms` milliseconds (abortable): for trying timeouts, concurrency and shutdown. */
export const sleep = defineJobType({
  name: 'sleep',
  description: `Wait {"ms"} milliseconds (0..${MAX_SLEEP_MS}), then succeed.`,
  schema: z.strictObject({ ms: z.number().int().min(0).max(MAX_SLEEP_MS) }),
  async run(data, context) {
    await delay(data.ms, undefined, { signal: context.signal });
    return { sleptMs: data.ms };
  },
});
