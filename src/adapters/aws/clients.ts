import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { S3Client } from '@aws-sdk/client-s3';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';

/** Where the AWS clients send requests. */
export interface AwsClientOptions {
  readonly region: string;
  /** An AWS-compatible endpoint (moto, LocalStack); omit for the real AWS endpoints. */
  readonly endpoint?: string;
}

// Each client owns a connection pool and a credential cache: make one per process and
// per destination, not one per request or per adapter.
const clients = new Map<string, unknown>();

function cached<T>(kind: string, options: AwsClientOptions, make: () => T): T {
  const key = `${kind}|${options.region}|${options.endpoint ?? ''}`;
  if (!clients.has(key)) clients.set(key, make());
  return clients.get(key) as T;
}

/** Settings every client shares: region, optional endpoint, bounded retries. */
function baseConfig(options: AwsClientOptions) {
  return {
    region: options.region,
    // SDK default, stated so that a change of default cannot lengthen every failure silently.
    maxAttempts: 3,
    ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint, credentials: emulatorCredentials() }),
  };
}

/**
 * An emulator accepts any credentials, but the SDK refuses to sign without some; use the
 * environment's when set (a developer may point at a real account through an endpoint).
 */
function emulatorCredentials() {
  const env = process.env;
  if (env['AWS_ACCESS_KEY_ID'] !== undefined || env['AWS_PROFILE'] !== undefined) return undefined;
  return { accessKeyId: 'test', secretAccessKey: 'test' };
}

/** The process-wide SQS client for this region and endpoint. */
export function createSqsClient(options: AwsClientOptions): SQSClient {
  return cached('sqs', options, () => new SQSClient(baseConfig(options)));
}

/** The process-wide DynamoDB client for this region and endpoint. */
export function createDynamoDbClient(options: AwsClientOptions): DynamoDBClient {
  return cached('dynamodb', options, () => new DynamoDBClient(baseConfig(options)));
}

/** The process-wide S3 client; path-style addressing with an endpoint, as emulators have no bucket DNS. */
export function createS3Client(options: AwsClientOptions): S3Client {
  return cached('s3', options, () => new S3Client({ ...baseConfig(options), forcePathStyle: options.endpoint !== undefined }));
}

/** The process-wide SNS client for this region and endpoint. */
export function createSnsClient(options: AwsClientOptions): SNSClient {
  return cached('sns', options, () => new SNSClient(baseConfig(options)));
}

/** The process-wide EventBridge client for this region and endpoint. */
export function createEventBridgeClient(options: AwsClientOptions): EventBridgeClient {
  return cached('eventbridge', options, () => new EventBridgeClient(baseConfig(options)));
}
