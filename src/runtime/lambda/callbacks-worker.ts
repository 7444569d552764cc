import { createSqsHandler } from './sqs-handler.js';
import { consumers } from './worker-bootstrap.js';

/** Lambda entry point: the callbacks queue's SQS event source (with ReportBatchItemFailures). */
export const handler = createSqsHandler(consumers.callbacks);
