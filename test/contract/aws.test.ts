import { randomUUID } from 'node:crypto';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { CreateTopicCommand, SubscribeCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDynamoDbClient, createS3Client, createSnsClient, createSqsClient } from '../../src/adapters/aws/clients.js';
import { createDynamoTableResource, DynamoTable } from '../../src/adapters/aws/dynamodb-table.js';
import { S3ObjectStore } from '../../src/adapters/aws/s3-object-store.js';
import { SnsTopic } from '../../src/adapters/aws/sns-topic.js';
import { SqsQueue } from '../../src/adapters/aws/sqs-queue.js';
import { startMoto, type MotoServer } from '../support/moto.js';
import { describeObjectStoreContract } from './object-store.contract.js';
import { describeQueueContract } from './queue.contract.js';
import { describeTableContract } from './table.contract.js';

const REGION = 'us-east-1';

let moto: MotoServer;
beforeAll(async () => {
  moto = await startMoto();
});
afterAll(async () => moto?.stop());

const options = () => ({ region: REGION, endpoint: moto.endpoint });
/** A name no other test uses, valid for queues, tables and buckets alike. */
const uniqueName = (kind: string) => `spool-${kind}-${randomUUID().slice(0, 8)}`;
// Every resource has a unique name and moto's whole state ends with its process in
// afterAll, so the fixtures have nothing to dispose of.
const nothingToDispose = async (): Promise<void> => undefined;

async function createQueue(client: SQSClient, name: string, attributes: Record<string, string> = {}) {
  const { QueueUrl } = await client.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
  const { Attributes } = await client.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
  return { url: QueueUrl!, arn: Attributes!.QueueArn! };
}

describeQueueContract({
  name: 'AWS SQS (moto)',
  // No staleReceiptIgnored: moto deletes a message with any receipt handle it ever had,
  // and SQS only says a stale handle's delete "succeeds, but the message might not be deleted".
  capabilities: new Set(),
  async create() {
    const client = createSqsClient(options());
    const name = uniqueName('queue');
    const dlq = await createQueue(client, `${name}-dlq`);
    const maxReceiveCount = 2;
    const source = await createQueue(client, name, {
      VisibilityTimeout: '1',
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.arn, maxReceiveCount }),
    });
    const queue = new SqsQueue({ client, name: 'contract', queueUrl: source.url, deadLetterQueueUrl: dlq.url, maxReceiveCount });
    return { queue, dispose: nothingToDispose };
  },
});

describeTableContract({
  name: 'AWS DynamoDB (moto)',
  // No ttlHidesExpired: DynamoDB serves expired items until its TTL sweep deletes them.
  capabilities: new Set(),
  async create() {
    const client = createDynamoDbClient(options());
    const tableName = uniqueName('table');
    await createDynamoTableResource(client, tableName);
    return { table: new DynamoTable({ client, name: 'contract', tableName }), dispose: nothingToDispose };
  },
});

describeObjectStoreContract({
  name: 'AWS S3 (moto)',
  async create() {
    const client = createS3Client(options());
    const bucket = uniqueName('bucket');
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
    return { store: new S3ObjectStore({ client, bucket }), dispose: nothingToDispose };
  },
});

describe('SnsTopic (moto)', () => {
  it('publishes to subscribers, with the subject cut to 100 characters', async () => {
    const sns = createSnsClient(options());
    const sqs = createSqsClient(options());
    const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: uniqueName('topic') }));
    const inbox = await createQueue(sqs, uniqueName('inbox'));
    await sns.send(new SubscribeCommand({ TopicArn, Protocol: 'sqs', Endpoint: inbox.arn }));
    const topic = new SnsTopic({ client: sns, name: 'alerts', topicArn: TopicArn! });

    const id = await topic.publish({ subject: 's'.repeat(150), message: '{"alert":"dlq"}' });

    const { Messages } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: inbox.url, WaitTimeSeconds: 5 }));
    const envelope = JSON.parse(Messages![0]!.Body!) as { MessageId: string; Subject: string; Message: string };
    expect(envelope).toMatchObject({ MessageId: id, Subject: 's'.repeat(100), Message: '{"alert":"dlq"}' });
  });
});
