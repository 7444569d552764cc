/**
 * Least-privilege grants with every action written out.
 *
 * CDK's `grantReadWriteData`, `grantReadWrite`, `grantPublish` (on an encrypted topic) emit
 * action wildcards such as `dynamodb:BatchGet*`, `s3:GetObject*`, `kms:GenerateDataKey*`; this
 * stack allows no wildcard action, so grants are built here from the operations the ports in
 * `src/ports/` actually perform.
 */
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as events from 'aws-cdk-lib/aws-events';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { GSI1 } from './storage.js';
import { TOPIC_KEY_PUBLISH_ACTIONS } from './notifications.js';

const allow = (grantee: iam.IGrantable, actions: string[], resources: string[]): void => {
  grantee.grantPrincipal.addToPrincipalPolicy(new iam.PolicyStatement({ actions, resources }));
};

/**
 * Table port (get, conditional put, update, delete, query by partition on the table or `gsi1`).
 * The index is named exactly, not `index/*`.
 */
export function allowTableReadWrite(grantee: iam.IGrantable, table: dynamodb.ITable): void {
  allow(
    grantee,
    ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:Query'],
    [table.tableArn, `${table.tableArn}/index/${GSI1}`],
  );
}

/**
 * Conditional writes by key only, no reads: `put` and `update` of the table port (an update
 * returns the new item without `dynamodb:GetItem`). For the dead-letter reconciler, which
 * claims its ledger entry (a conditional put) and marks a job `failed` (a conditional update).
 */
export function allowTablePutUpdate(grantee: iam.IGrantable, table: dynamodb.ITable): void {
  allow(grantee, ['dynamodb:PutItem', 'dynamodb:UpdateItem'], [table.tableArn]);
}

/** `DescribeTable`, which the API's `GET /health` uses to check DynamoDB (metadata only, no items). */
export function allowTableDescribe(grantee: iam.IGrantable, table: dynamodb.ITable): void {
  allow(grantee, ['dynamodb:DescribeTable'], [table.tableArn]);
}

/**
 * Object store port, reading: get and head (`s3:GetObject`), list by prefix (`s3:ListBucket`,
 * which also turns a missing key into 404 instead of 403, and authorizes the HeadBucket of
 * the API's health check).
 */
export function allowBucketRead(grantee: iam.IGrantable, bucket: s3.IBucket): void {
  allow(grantee, ['s3:GetObject'], [bucket.arnForObjects('*')]);
  allow(grantee, ['s3:ListBucket'], [bucket.bucketArn]);
}

/** Object store port, reading and writing results (`put`, including `If-None-Match`). */
export function allowBucketReadWrite(grantee: iam.IGrantable, bucket: s3.IBucket): void {
  allow(grantee, ['s3:GetObject', 's3:PutObject'], [bucket.arnForObjects('*')]);
  allow(grantee, ['s3:ListBucket'], [bucket.bucketArn]);
}

/**
 * Queue port, producing: `send` (SendMessageBatch is authorized by `sqs:SendMessage`) and, unless
 * `stats: false`, `stats` (`sqs:GetQueueAttributes`).
 */
export function allowQueueSend(grantee: iam.IGrantable, queue: sqs.IQueue, options: { readonly stats?: boolean } = {}): void {
  allow(grantee, options.stats === false ? ['sqs:SendMessage'] : ['sqs:SendMessage', 'sqs:GetQueueAttributes'], [queue.queueArn]);
}

/**
 * Dead-letter administration from the API: `stats`, `peekDeadLetters` (a receive with
 * visibility timeout 0, so nothing is consumed) and `redrive` (receive, send to the main
 * queue, delete here; DeleteMessageBatch is authorized by `sqs:DeleteMessage`).
 */
export function allowDeadLetterAdmin(grantee: iam.IGrantable, deadLetterQueue: sqs.IQueue): void {
  allow(grantee, ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes'], [deadLetterQueue.queueArn]);
}

/**
 * Dead-letter reading only: `peekDeadLetters`, a receive with visibility timeout 0 (nothing is
 * consumed or deleted). For the dead-letter reconciler.
 */
export function allowDeadLetterPeek(grantee: iam.IGrantable, deadLetterQueue: sqs.IQueue): void {
  allow(grantee, ['sqs:ReceiveMessage'], [deadLetterQueue.queueArn]);
}

/**
 * Publishing to a KMS-encrypted topic: `sns:Publish` plus the two key operations SNS performs
 * with the publisher's credentials.
 */
export function allowTopicPublish(grantee: iam.IGrantable, topic: sns.ITopic, key: kms.IKey): void {
  allow(grantee, ['sns:Publish'], [topic.topicArn]);
  allow(grantee, TOPIC_KEY_PUBLISH_ACTIONS, [key.keyArn]);
}

/**
 * Aurora DSQL as an application database role: `dsql:DbConnect` on one cluster. Never
 * `dsql:DbConnectAdmin` (the `admin` role), which only the migrate function has.
 */
export function allowDsqlConnect(grantee: iam.IGrantable, clusterArn: string): void {
  allow(grantee, ['dsql:DbConnect'], [clusterArn]);
}

/**
 * Aurora DSQL as the `admin` role, on one cluster: for the migrate function only (it creates
 * the schema and the application's role, then maps that role to the API function's IAM role).
 */
export function allowDsqlConnectAdmin(grantee: iam.IGrantable, clusterArn: string): void {
  allow(grantee, ['dsql:DbConnectAdmin'], [clusterArn]);
}

/** EventBus port, publishing: `events:PutEvents` on one bus. */
export function allowPutEvents(grantee: iam.IGrantable, bus: events.IEventBus): void {
  allow(grantee, ['events:PutEvents'], [bus.eventBusArn]);
}
