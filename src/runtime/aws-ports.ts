import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { HeadBucketCommand } from '@aws-sdk/client-s3';
import { createDynamoDbClient, createEventBridgeClient, createS3Client, createSnsClient, createSqsClient, type AwsClientOptions } from '../adapters/aws/clients.js';
import { DynamoTable } from '../adapters/aws/dynamodb-table.js';
import { EventBridgeBus } from '../adapters/aws/eventbridge-bus.js';
import { S3ObjectStore } from '../adapters/aws/s3-object-store.js';
import { SnsTopic } from '../adapters/aws/sns-topic.js';
import { SqsQueue } from '../adapters/aws/sqs-queue.js';
import { eventBusName, type Config } from '../config.js';
import { ConfigError } from '../errors.js';
import type { Ports } from './ports.js';

/**
 * The AWS backend: SQS, DynamoDB, S3, SNS, EventBridge (and Secrets Manager for the callback
 * key), named by the configuration that the CDK app's outputs (or a Lambda's environment)
 * provide. `SPOOL_AWS_ENDPOINT` points every client at an emulator such as moto. No SQL store:
 * the worker Lambdas do not need one; the API and the local runtime add it (see `create-ports.ts`).
 * The event bus is the task events bus ({@link eventBusName}); only `putEvents` is used at run
 * time: its rules and targets are the CDK app's, so `putTargets` here refuses with a ConfigError,
 * and EventBridge delivers by itself (no `eventDelivery`).
 */
export function createAwsPorts(config: Config): Ports {
  const need = (key: keyof Config): string => {
    const value = config[key];
    if (typeof value !== 'string') throw new ConfigError([`${key}: is required when SPOOL_BACKEND=aws`]);
    return value;
  };
  const options: AwsClientOptions = { region: config.AWS_REGION, ...(config.SPOOL_AWS_ENDPOINT ? { endpoint: config.SPOOL_AWS_ENDPOINT } : {}) };
  const sqs = createSqsClient(options);
  const dynamo = createDynamoDbClient(options);
  const s3 = createS3Client(options);
  const queue = (name: string, url: keyof Config, dlq: keyof Config, maxReceiveCount: number) =>
    new SqsQueue({ client: sqs, name, queueUrl: need(url), deadLetterQueueUrl: need(dlq), maxReceiveCount });
  const jobsQueue = queue('jobs', 'SPOOL_JOBS_QUEUE_URL', 'SPOOL_JOBS_DLQ_URL', config.SPOOL_JOBS_MAX_RECEIVE_COUNT);
  const busName = eventBusName(config);
  const rulesAreInfra = (): never => {
    throw new ConfigError([`rule targets of event bus ${busName} are managed by the CDK app on AWS; putTargets has no target ARNs here`]);
  };
  let secret: Promise<string> | undefined;
  return {
    backend: 'aws',
    jobsQueue,
    ordersQueue: queue('orders', 'SPOOL_ORDERS_QUEUE_URL', 'SPOOL_ORDERS_DLQ_URL', config.SPOOL_ORDERS_MAX_RECEIVE_COUNT),
    callbacksQueue: queue('callbacks', 'SPOOL_CALLBACKS_QUEUE_URL', 'SPOOL_CALLBACKS_DLQ_URL', config.SPOOL_CALLBACKS_MAX_RECEIVE_COUNT),
    jobsTable: new DynamoTable({ client: dynamo, name: 'jobs', tableName: need('SPOOL_JOBS_TABLE') }),
    ordersTable: new DynamoTable({ client: dynamo, name: 'orders', tableName: need('SPOOL_ORDERS_TABLE') }),
    results: new S3ObjectStore({ client: s3, bucket: need('SPOOL_RESULTS_BUCKET') }),
    alerts: new SnsTopic({ client: createSnsClient(options), name: 'alerts', topicArn: need('SPOOL_ALERTS_TOPIC_ARN') }),
    eventBus: new EventBridgeBus({ client: createEventBridgeClient(options), targetArn: rulesAreInfra }),
    callbackSecret: () => (secret ??= loadSecret(config, options)),
    healthChecks: {
      sqs: () => sqs.send(new GetQueueAttributesCommand({ QueueUrl: need('SPOOL_JOBS_QUEUE_URL'), AttributeNames: ['ApproximateNumberOfMessages'] })),
      dynamodb: () => dynamo.send(new DescribeTableCommand({ TableName: need('SPOOL_JOBS_TABLE') })),
      s3: () => s3.send(new HeadBucketCommand({ Bucket: need('SPOOL_RESULTS_BUCKET') })),
    },
    async close() {
      // Clients are process-wide and reused (Lambda keeps them warm); nothing to release per system.
    },
  };
}

async function loadSecret(config: Config, options: AwsClientOptions): Promise<string> {
  if (config.SPOOL_CALLBACK_SECRET !== undefined) return config.SPOOL_CALLBACK_SECRET;
  if (config.SPOOL_CALLBACK_SECRET_ARN === undefined) {
    throw new ConfigError(['SPOOL_CALLBACK_SECRET or SPOOL_CALLBACK_SECRET_ARN is required to sign callbacks on AWS']);
  }
  const client = new SecretsManagerClient({ region: options.region, ...(options.endpoint ? { endpoint: options.endpoint } : {}) });
  const value = await client.send(new GetSecretValueCommand({ SecretId: config.SPOOL_CALLBACK_SECRET_ARN }));
  if (value.SecretString === undefined || value.SecretString.length < 16) throw new ConfigError(['the callback secret must be a string of 16+ characters']);
  return value.SecretString;
}
