import { Duration, Validations } from 'aws-cdk-lib';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { Construct } from 'constructs';
import type { SpoolNotifications } from './notifications.js';
import { allowBucketReadWrite, allowQueueSend, allowTableReadWrite, allowTopicPublish } from './permissions.js';
import type { QueuePair, SpoolQueues } from './queues.js';
import { type FunctionSettings, SpoolFunction } from './spool-function.js';
import type { SpoolStorage } from './storage.js';

/**
 * How each worker's SQS event source polls, shaped like the local runtime's event source
 * (`SPOOL_WORKER_*` in src/config.ts).
 */
export const EVENT_SOURCE = {
  /** The SQS maximum per receive. */
  batchSize: 10,
  /** Waits up to this long to fill a batch: fewer, fuller invocations at low traffic. */
  maxBatchingWindow: Duration.seconds(1),
  /** Caps the concurrent invocations one queue can cause, protecting DynamoDB and callback receivers. */
  maxConcurrency: 10,
} as const;

/** Properties of {@link SpoolWorkers}. */
export interface SpoolWorkersProps {
  readonly namePrefix: string;
  readonly queues: SpoolQueues;
  readonly storage: SpoolStorage;
  readonly notifications: SpoolNotifications;
  readonly functionSettings: FunctionSettings;
}

/**
 * The three queue consumers. Each gets only what its record handler touches:
 * - jobs worker: jobs table, results bucket, callbacks queue (send), alerts topic;
 * - orders worker: orders table, alerts topic;
 * - callbacks worker: the callback signing secret, alerts topic.
 */
export class SpoolWorkers extends Construct {
  readonly jobsWorker: SpoolFunction;
  readonly ordersWorker: SpoolFunction;
  readonly callbacksWorker: SpoolFunction;

  constructor(scope: Construct, id: string, props: SpoolWorkersProps) {
    super(scope, id);
    const { queues, storage, notifications } = props;

    this.jobsWorker = this.worker('JobsWorker', 'jobs-worker', 'Processes jobs from the jobs queue', queues.jobs, props);
    allowTableReadWrite(this.jobsWorker.role, storage.jobsTable);
    allowBucketReadWrite(this.jobsWorker.role, storage.resultsBucket);
    allowQueueSend(this.jobsWorker.role, queues.callbacks.queue);
    allowTopicPublish(this.jobsWorker.role, notifications.alertsTopic, notifications.alertsKey);
    Validations.of(this.jobsWorker).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${storage.resultsBucketLogicalId}.Arn>/*]`,
      reason: 'Results are written and read under keys derived from job ids, unknown at deploy time; the grant is limited to s3:GetObject and s3:PutObject in this one bucket.',
    });

    this.ordersWorker = this.worker('OrdersWorker', 'orders-worker', 'Writes orders from the orders queue', queues.orders, props);
    allowTableReadWrite(this.ordersWorker.role, storage.ordersTable);
    allowTopicPublish(this.ordersWorker.role, notifications.alertsTopic, notifications.alertsKey);

    this.callbacksWorker = this.worker(
      'CallbacksWorker',
      'callbacks-worker',
      'Delivers signed job-completion callbacks from the callbacks queue',
      queues.callbacks,
      props,
    );
    notifications.callbackSecret.grantRead(this.callbacksWorker.role);
    allowTopicPublish(this.callbacksWorker.role, notifications.alertsTopic, notifications.alertsKey);
  }

  /** All workers, in a stable order. */
  get all(): readonly SpoolFunction[] {
    return [this.jobsWorker, this.ordersWorker, this.callbacksWorker];
  }

  private worker(id: string, file: string, description: string, source: QueuePair, props: SpoolWorkersProps): SpoolFunction {
    const worker = new SpoolFunction(this, id, {
      ...props.functionSettings,
      functionName: `${props.namePrefix}-${file}`,
      entry: `src/runtime/lambda/${file}.ts`,
      description,
    });
    // Also grants consuming the queue: ReceiveMessage, DeleteMessage, ChangeMessageVisibility,
    // GetQueueAttributes, GetQueueUrl (no wildcards).
    worker.function.addEventSource(
      new SqsEventSource(source.queue, {
        batchSize: EVENT_SOURCE.batchSize,
        maxBatchingWindow: EVENT_SOURCE.maxBatchingWindow,
        maxConcurrency: EVENT_SOURCE.maxConcurrency,
        // Only the failed records return to the queue; the handler reports them.
        reportBatchItemFailures: true,
      }),
    );
    Validations.of(worker).acknowledge({
      id: 'Serverless-LambdaEventSourceMappingDestination',
      reason: `SQS event source mappings do not support on-failure destinations; failed messages move to the ${source.name} DLQ through the queue's redrive policy (maxReceiveCount ${source.maxReceiveCount}), which is alarmed.`,
    });
    return worker;
  }
}
