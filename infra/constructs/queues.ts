import { Duration, type RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

/**
 * Receives before a message moves to its dead-letter queue. Fixed by the recipes (jobs 3,
 * orders 5) and by the callback delivery design (8 attempts); the functions read the same
 * numbers from `SPOOL_*_MAX_RECEIVE_COUNT`, so they are not parameters.
 */
export const MAX_RECEIVE_COUNTS = { jobs: 3, orders: 5, callbacks: 8 } as const;

/** The logical queue names; the admin routes address queues by these. */
export type QueueName = keyof typeof MAX_RECEIVE_COUNTS;

/** A main queue, its dead-letter queue and the redrive settings between them. */
export interface QueuePair {
  readonly name: QueueName;
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
  readonly maxReceiveCount: number;
  readonly visibilityTimeout: Duration;
}

/** Properties of {@link SpoolQueues}. */
export interface SpoolQueuesProps {
  /** Prefix of the physical queue names (`spool-dev` gives `spool-dev-jobs`). */
  readonly namePrefix: string;
  /**
   * Visibility timeout of the main queues. AWS asks for at least six times the consuming
   * function's timeout (plus its batching window) so that retries of a throttled invocation
   * do not make a message visible again while it is still being processed.
   */
  readonly visibilityTimeout: Duration;
  readonly removalPolicy: RemovalPolicy;
}

// The SQS maximum: a message that waits for a redrive keeps as long as possible.
const RETENTION = Duration.days(14);

/**
 * The three work queues (jobs, orders, callbacks), each with its dead-letter queue.
 * All are encrypted with SQS-managed keys and refuse requests not made over TLS.
 */
export class SpoolQueues extends Construct {
  readonly jobs: QueuePair;
  readonly orders: QueuePair;
  /** Job-completion callbacks are delivered from this queue, with retries spaced by SQS. */
  readonly callbacks: QueuePair;

  constructor(scope: Construct, id: string, props: SpoolQueuesProps) {
    super(scope, id);
    this.jobs = this.pair('jobs', 'Jobs', props);
    this.orders = this.pair('orders', 'Orders', props);
    this.callbacks = this.pair('callbacks', 'Callbacks', props);
  }

  /** All pairs, in a stable order. */
  get all(): readonly QueuePair[] {
    return [this.jobs, this.orders, this.callbacks];
  }

  private pair(name: QueueName, id: string, props: SpoolQueuesProps): QueuePair {
    const common = {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: RETENTION,
      removalPolicy: props.removalPolicy,
    };
    // A DLQ's retention counts from the original enqueue time, so it gets the maximum too.
    const deadLetterQueue = new sqs.Queue(this, `${id}Dlq`, { ...common, queueName: `${props.namePrefix}-${name}-dlq` });
    Validations.of(deadLetterQueue).acknowledge({
      id: 'Serverless-SQSRedrivePolicy',
      reason: `This is the ${name} dead-letter queue: nothing consumes it automatically (operators peek and redrive through the admin API), and a DLQ of a DLQ would only move the messages; its depth is alarmed.`,
    });
    const maxReceiveCount = MAX_RECEIVE_COUNTS[name];
    const queue = new sqs.Queue(this, `${id}Queue`, {
      ...common,
      queueName: `${props.namePrefix}-${name}`,
      visibilityTimeout: props.visibilityTimeout,
      deadLetterQueue: { queue: deadLetterQueue, maxReceiveCount },
    });
    return { name, queue, deadLetterQueue, maxReceiveCount, visibilityTimeout: props.visibilityTimeout };
  }
}
