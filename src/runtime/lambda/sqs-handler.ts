import type { Context, SQSEvent } from 'aws-lambda';
import type { Consumer } from '../consumers.js';
import { processBatch, type BatchResponse, type QueueRecord } from '../../workers/queue-record.js';

// Leave this much of the Lambda's time to report failures before the runtime kills it.
const SAFETY_MARGIN_MS = 1500;

/**
 * Adapts an SQS event to a consumer's record handler and returns `batchItemFailures`
 * (the event source must set `ReportBatchItemFailures`). Handlers are aborted shortly
 * before the function's own timeout, so slow records are reported instead of the whole
 * batch being lost to a timeout.
 *
 * @example
 * export const handler = createSqsHandler(consumers.jobs);
 */
export function createSqsHandler(consumer: Consumer) {
  return async (event: SQSEvent, context?: Pick<Context, 'getRemainingTimeInMillis'>): Promise<BatchResponse> => {
    const remaining = context?.getRemainingTimeInMillis() ?? 60_000;
    const signal = AbortSignal.timeout(Math.max(100, remaining - SAFETY_MARGIN_MS));
    const records: QueueRecord[] = event.Records.map((r) => ({
      messageId: r.messageId,
      body: r.body,
      receiptHandle: r.receiptHandle,
      receiveCount: Number(r.attributes.ApproximateReceiveCount) || 1,
    }));
    return processBatch(records, consumer.handler, { ...consumer.policy, signal });
  };
}
