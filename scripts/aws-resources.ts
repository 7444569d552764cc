import { randomUUID } from 'node:crypto';
import { CreateEventBusCommand, ResourceAlreadyExistsException } from '@aws-sdk/client-eventbridge';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { CreateTopicCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { createDynamoDbClient, createEventBridgeClient, createS3Client, createSnsClient, createSqsClient, type AwsClientOptions } from '../src/adapters/aws/clients.js';
import { createDynamoTableResource } from '../src/adapters/aws/dynamodb-table.js';

/**
 * Creates every resource Spool needs on an AWS-compatible endpoint (moto, LocalStack),
 * shaped like the CDK app's (redrive policies, visibility timeouts), and returns the
 * environment variables that point `SPOOL_BACKEND=aws` at them. The task events bus is named
 * as the recipe names it, `task-events-<environment>` (default environment `dev`), not by
 * `prefix`; it is created once per endpoint and reused.
 *
 * @example
 * const env = await createAwsResources({ region: 'us-east-1', endpoint: 'http://127.0.0.1:5000' });
 */
export async function createAwsResources(
  options: AwsClientOptions & { visibilitySeconds?: number; prefix?: string; environment?: string },
): Promise<Record<string, string>> {
  const prefix = options.prefix ?? `spool-${randomUUID().slice(0, 8)}`;
  const visibility = String(options.visibilitySeconds ?? 300);
  const sqs = createSqsClient(options);
  const queuePair = async (name: string, maxReceiveCount: number) => {
    const dlq = await sqs.send(new CreateQueueCommand({ QueueName: `${prefix}-${name}-dlq`, Attributes: { MessageRetentionPeriod: '1209600' } }));
    const arn = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlq.QueueUrl, AttributeNames: ['QueueArn'] }));
    const main = await sqs.send(
      new CreateQueueCommand({
        QueueName: `${prefix}-${name}`,
        Attributes: {
          VisibilityTimeout: visibility,
          MessageRetentionPeriod: '1209600',
          RedrivePolicy: JSON.stringify({ deadLetterTargetArn: arn.Attributes!.QueueArn, maxReceiveCount }),
        },
      }),
    );
    return { url: main.QueueUrl!, dlqUrl: dlq.QueueUrl! };
  };
  const jobs = await queuePair('jobs', 3);
  const orders = await queuePair('orders', 5);
  const callbacks = await queuePair('callbacks', 8);
  const dynamo = createDynamoDbClient(options);
  await createDynamoTableResource(dynamo, `${prefix}-jobs`);
  await createDynamoTableResource(dynamo, `${prefix}-orders`);
  await createS3Client(options).send(new CreateBucketCommand({ Bucket: `${prefix}-results` }));
  const topic = await createSnsClient(options).send(new CreateTopicCommand({ Name: `${prefix}-alerts` }));
  const eventBus = `task-events-${options.environment ?? 'dev'}`;
  try {
    await createEventBridgeClient(options).send(new CreateEventBusCommand({ Name: eventBus }));
  } catch (error) {
    if (!(error instanceof ResourceAlreadyExistsException)) throw error;
  }
  return {
    SPOOL_BACKEND: 'aws',
    AWS_REGION: options.region,
    ...(options.endpoint === undefined ? {} : { SPOOL_AWS_ENDPOINT: options.endpoint }),
    SPOOL_JOBS_QUEUE_URL: jobs.url,
    SPOOL_JOBS_DLQ_URL: jobs.dlqUrl,
    SPOOL_ORDERS_QUEUE_URL: orders.url,
    SPOOL_ORDERS_DLQ_URL: orders.dlqUrl,
    SPOOL_CALLBACKS_QUEUE_URL: callbacks.url,
    SPOOL_CALLBACKS_DLQ_URL: callbacks.dlqUrl,
    SPOOL_JOBS_TABLE: `${prefix}-jobs`,
    SPOOL_ORDERS_TABLE: `${prefix}-orders`,
    SPOOL_RESULTS_BUCKET: `${prefix}-results`,
    SPOOL_ALERTS_TOPIC_ARN: topic.TopicArn!,
    SPOOL_EVENT_BUS_NAME: eventBus,
    SPOOL_JOBS_VISIBILITY_SECONDS: visibility,
    SPOOL_ORDERS_VISIBILITY_SECONDS: visibility,
  };
}

// `npx tsx scripts/aws-resources.ts http://127.0.0.1:5000` prints `export` lines for a shell.
if (import.meta.url === `file://${process.argv[1]}`) {
  const endpoint = process.argv[2];
  const environment = process.env['SPOOL_ENVIRONMENT'];
  const env = await createAwsResources({ region: process.env['AWS_REGION'] ?? 'us-east-1', ...(endpoint ? { endpoint } : {}), ...(environment ? { environment } : {}) });
  for (const [k, v] of Object.entries(env)) process.stdout.write(`export ${k}='${v}'\n`);
}
