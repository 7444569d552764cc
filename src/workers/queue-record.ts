import type { Logger } from 'pino';
import type { Clock } from '../ports/clock.js';
import type { Queue } from '../ports/queue.js';
import type { Table } from '../ports/table.js';
import type { Topic } from '../ports/topic.js';
import { deadLetterNotification, publishDeadLetterAlertOnce } from './dead-letter-ledger.js';

/** One message as a worker sees it, from the local event source or a Lambda SQS event. */
export interface QueueRecord {
  readonly messageId: string;
  readonly body: string;
  /** Latest receipt handle: needed to delay a retry. */
  readonly receiptHandle: string;
  /** 1 on the first delivery. */
  readonly receiveCount: number;
}

/** What a handler knows about the current attempt. */
export interface Attempt {
  readonly number: number;
  /** True when this is the last delivery before the message is dead-lettered. */
  readonly final: boolean;
  readonly signal: AbortSignal;
}

/** Processes one record; throws to fail it (it is then retried, and dead-lettered after the last attempt). */
export type RecordHandler = (record: QueueRecord, attempt: Attempt) => Promise<void>;

/** Lambda's partial batch response: only these records return to the queue. */
export interface BatchResponse {
  batchItemFailures: Array<{ itemIdentifier: string }>;
}

export interface BatchPolicy {
  /** The queue the records came from: its redrive policy decides which attempt is final. */
  readonly queue: Queue;
  readonly alerts: Topic;
  readonly logger: Logger;
  /** First retry delay; doubles per attempt, capped at `maxRetryDelaySeconds`. */
  readonly retryBaseSeconds: number;
  readonly maxRetryDelaySeconds: number;
  readonly signal?: AbortSignal;
  /**
   * Where alerted dead letters are remembered, shared with the dead-letter reconciler so
   * each dead-lettered message gets exactly one alert (see `dead-letter-ledger.ts`).
   */
  readonly ledger?: { readonly table: Table; readonly clock: Clock };
}

/**
 * Runs `handler` on every record of a batch concurrently and reports the failures, the way
 * a Lambda SQS handler with `ReportBatchItemFailures` does. Retry and alert policy lives
 * here, once, for every queue:
 * - a failed attempt that is not the last is delayed by exponential backoff (by changing the
 *   message's visibility) instead of waiting out the whole visibility timeout;
 * - a failed last attempt publishes exactly one alert: the message is dead-lettered on its
 *   next receive, without running again;
 * - a malformed record is just a failed record: it never fails the batch.
 */
export async function processBatch(records: readonly QueueRecord[], handler: RecordHandler, policy: BatchPolicy): Promise<BatchResponse> {
  const signal = policy.signal ?? new AbortController().signal;
  const failures = await Promise.all(
    records.map(async (record) => {
      const final = record.receiveCount >= policy.queue.maxReceiveCount;
      try {
        await handler(record, { number: record.receiveCount, final, signal });
        return undefined;
      } catch (error) {
        await onFailure(record, error, final, policy);
        return { itemIdentifier: record.messageId };
      }
    }),
  );
  return { batchItemFailures: failures.filter((f) => f !== undefined) };
}

async function onFailure(record: QueueRecord, error: unknown, final: boolean, policy: BatchPolicy): Promise<void> {
  const reason = error instanceof Error ? error.message : String(error);
  const log = { queue: policy.queue.name, messageId: record.messageId, attempt: record.receiveCount, err: error };
  try {
    if (final) {
      policy.logger.error(log, 'final attempt failed: message goes to the dead-letter queue');
      const alert = deadLetterNotification({ queue: policy.queue.name, messageId: record.messageId, attempts: record.receiveCount, error: reason, body: record.body });
      const ledger = policy.ledger;
      if (ledger === undefined) await policy.alerts.publish(alert);
      // A failed publish gives the claim back: the reconciler alerts once the message is in the DLQ.
      else await publishDeadLetterAlertOnce(ledger.table, policy.queue.name, record.messageId, ledger.clock, () => policy.alerts.publish(alert));
      // Visible at once, so the next receive moves it to the DLQ without waiting.
      await policy.queue.changeVisibility(record.receiptHandle, 0);
    } else {
      policy.logger.warn(log, 'attempt failed: will retry');
      const delay = Math.min(policy.retryBaseSeconds * 2 ** (record.receiveCount - 1), policy.maxRetryDelaySeconds);
      await policy.queue.changeVisibility(record.receiptHandle, delay);
    }
  } catch (policyError) {
    // The record is still reported as failed; the queue's visibility timeout takes over.
    policy.logger.error({ ...log, err: policyError }, 'could not apply the retry policy');
  }
}
