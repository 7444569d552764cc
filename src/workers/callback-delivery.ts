import { createHmac } from 'node:crypto';
import * as z from 'zod';
import { ValidationError } from '../errors.js';
import type { OutgoingMessage } from '../ports/queue.js';
import type { Job } from '../domain/jobs/job.js';
import type { RecordHandler } from './queue-record.js';

const CallbackMessage = z.object({ url: z.url({ protocol: /^https?$/ }), deliveryId: z.string(), payload: z.json() });

/** Header carrying `sha256=<hex HMAC-SHA256 of the raw body>`. */
export const SIGNATURE_HEADER = 'x-spool-signature';
/** Header carrying `{jobId}:{status}`: the same delivery may arrive more than once; receivers dedupe on it. */
export const DELIVERY_HEADER = 'x-spool-delivery';

/** The callbacks-queue message announcing `job`'s final status to `url`. */
export function callbackMessage(url: string, job: Job): OutgoingMessage {
  return { body: JSON.stringify({ url, deliveryId: `${job.jobId}:${job.status}`, payload: job }) };
}

/**
 * Signs a body the way callbacks are signed.
 *
 * @example
 * // receiver side: compare in constant time
 * timingSafeEqual(Buffer.from(req.headers['x-spool-signature']), Buffer.from(sign(secret, rawBody)))
 */
export function sign(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/**
 * Delivers one callback: POST the job status, signed. A non-2xx answer or a network error
 * fails the record, so the queue retries it with backoff and dead-letters it in the end;
 * job workers only enqueue, so a slow receiver never blocks them.
 */
export function createCallbackDelivery(deps: { secret: () => Promise<string>; timeoutMs?: number; fetch?: typeof fetch }): RecordHandler {
  const post = deps.fetch ?? fetch;
  return async (record, attempt) => {
    const parsed = CallbackMessage.safeParse(JSON.parse(record.body));
    if (!parsed.success) throw new ValidationError('malformed callback message', parsed.error.issues);
    const body = JSON.stringify(parsed.data.payload);
    const response = await post(parsed.data.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', [SIGNATURE_HEADER]: sign(await deps.secret(), body), [DELIVERY_HEADER]: parsed.data.deliveryId },
      body,
      redirect: 'manual',
      signal: AbortSignal.any([attempt.signal, AbortSignal.timeout(deps.timeoutMs ?? 10_000)]),
    });
    if (response.status < 200 || response.status >= 300) throw new Error(`callback answered ${response.status}`);
  };
}
