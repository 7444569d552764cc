import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

/** Properties of {@link SpoolStorage}. */
export interface SpoolStorageProps {
  /** Prefix of the physical table names (`spool-dev` gives `spool-dev-jobs`). */
  readonly namePrefix: string;
  /** Results objects are deleted this many days after creation. */
  readonly resultsExpirationDays: number;
  /** S3 server access logs are deleted after this many days. */
  readonly accessLogRetentionDays: number;
  readonly removalPolicy: RemovalPolicy;
}

/** Name of the one secondary index; the table adapter queries it as `gsi1`. */
export const GSI1 = 'gsi1';

/**
 * Durable state: the jobs and orders tables (single-table design, keys `pk`/`sk`, index
 * `gsi1`, TTL on `expiresAt`, as `src/ports/table.ts` expects) and the results bucket.
 */
export class SpoolStorage extends Construct {
  readonly jobsTable: dynamodb.Table;
  readonly ordersTable: dynamodb.Table;
  readonly resultsBucket: s3.Bucket;
  /** Receives the results bucket's server access logs. */
  readonly accessLogsBucket: s3.Bucket;
  /** The results bucket's logical id, which cdk-nag findings on object ARNs (`<Id.Arn>/*`) name. */
  readonly resultsBucketLogicalId: string;

  constructor(scope: Construct, id: string, props: SpoolStorageProps) {
    super(scope, id);
    this.jobsTable = this.table('JobsTable', `${props.namePrefix}-jobs`, props.removalPolicy);
    this.ordersTable = this.table('OrdersTable', `${props.namePrefix}-orders`, props.removalPolicy);

    const privateBucket = {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      // ACLs disabled: access is decided by IAM and bucket policies only.
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      // A non-empty bucket fails to delete; `destroy` expects it to be emptied first.
      // autoDeleteObjects is avoided on purpose: its custom resource needs wildcard S3 actions.
      removalPolicy: props.removalPolicy,
    };

    this.accessLogsBucket = new s3.Bucket(this, 'AccessLogsBucket', {
      ...privateBucket,
      lifecycleRules: [{ id: 'expire-access-logs', expiration: Duration.days(props.accessLogRetentionDays) }],
    });
    // No access logs of its own (logging the log bucket would loop); cdk-nag S1 exempts log destinations.

    this.resultsBucket = new s3.Bucket(this, 'ResultsBucket', {
      ...privateBucket,
      serverAccessLogsBucket: this.accessLogsBucket,
      serverAccessLogsPrefix: 'results/',
      lifecycleRules: [
        {
          id: 'expire-results',
          expiration: Duration.days(props.resultsExpirationDays),
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
      ],
    });
    this.resultsBucketLogicalId = Stack.of(this).getLogicalId(this.resultsBucket.node.defaultChild as s3.CfnBucket);
  }

  private table(id: string, tableName: string, removalPolicy: RemovalPolicy): dynamodb.Table {
    const table = new dynamodb.Table(this, id, {
      tableName,
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: 'expiresAt',
      // The AWS-managed key (aws/dynamodb): encrypted with KMS, auditable in CloudTrail, and no
      // key policy to maintain; functions need no kms: permissions to use it.
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      // A retained table is one somebody cares about: protect it from an accidental delete too.
      deletionProtection: removalPolicy === RemovalPolicy.RETAIN,
      removalPolicy,
    });
    table.addGlobalSecondaryIndex({
      indexName: GSI1,
      partitionKey: { name: 'gsi1pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'gsi1sk', type: dynamodb.AttributeType.STRING },
      projectionType: dynamodb.ProjectionType.ALL,
    });
    return table;
  }
}
