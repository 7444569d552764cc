import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps, Tags } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { SpoolApi } from './constructs/api.js';
import { SpoolMonitoring } from './constructs/monitoring.js';
import { SpoolNotifications } from './constructs/notifications.js';
import { MAX_RECEIVE_COUNTS, SpoolQueues } from './constructs/queues.js';
import { SpoolDeadLetterReconciler } from './constructs/reconciler.js';
import type { FunctionSettings } from './constructs/spool-function.js';
import { SpoolStorage } from './constructs/storage.js';
import { EVENT_SOURCE, SpoolWorkers } from './constructs/workers.js';
import { resolveSettings, type SpoolSettings, type SpoolSettingsInput } from './settings.js';

/** Properties of {@link SpoolStack}: the usual stack props plus the deployment parameters. */
export interface SpoolStackProps extends StackProps, SpoolSettingsInput {}

/** The visibility timeout the recipes use (and src/config.ts defaults to). */
const RECIPE_VISIBILITY_SECONDS = 300;

/**
 * Visibility timeout of the main queues: the recipe's 300 s, or more when the functions'
 * timeout demands it (AWS: at least 6x the function timeout plus the batching window).
 */
export function visibilityTimeoutSeconds(lambdaTimeoutSeconds: number): number {
  return Math.max(RECIPE_VISIBILITY_SECONDS, 6 * lambdaTimeoutSeconds + EVENT_SOURCE.maxBatchingWindow.toSeconds());
}

/**
 * Spool on AWS: HTTP API and three SQS-driven workers on Lambda, a scheduled dead-letter
 * reconciler, DynamoDB tables, an S3 results bucket, an encrypted alerts topic, alarms and a
 * dashboard.
 *
 * @example
 * new SpoolStack(app, 'spool-dev', { environment: 'dev', alertEmail: 'ops@example.com' });
 */
export class SpoolStack extends Stack {
  /** The parameters after defaults and validation. */
  readonly settings: SpoolSettings;
  readonly queues: SpoolQueues;
  readonly storage: SpoolStorage;
  readonly notifications: SpoolNotifications;
  readonly api: SpoolApi;
  readonly workers: SpoolWorkers;
  readonly reconciler: SpoolDeadLetterReconciler;
  readonly monitoring: SpoolMonitoring;

  constructor(scope: Construct, id: string, props: SpoolStackProps = {}) {
    super(scope, id, props);
    const settings = resolveSettings(props);
    this.settings = settings;
    const { namePrefix } = settings;
    const removalPolicy = settings.dataRemovalPolicy === 'destroy' ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN;
    // Dashboards are left untagged: cfn-lint 1.x on this machine predates CloudFormation's
    // Tags on AWS::CloudWatch::Dashboard and rejects them, and a dashboard has no cost to allocate.
    const tagOptions = { excludeResourceTypes: ['AWS::CloudWatch::Dashboard'] };
    Tags.of(this).add('project', settings.projectName, tagOptions);
    Tags.of(this).add('environment', settings.environment, tagOptions);

    const visibility = visibilityTimeoutSeconds(settings.lambdaTimeout);
    this.queues = new SpoolQueues(this, 'Queues', { namePrefix, visibilityTimeout: Duration.seconds(visibility), removalPolicy });
    this.storage = new SpoolStorage(this, 'Storage', {
      namePrefix,
      resultsExpirationDays: settings.resultsExpirationDays,
      accessLogRetentionDays: settings.logRetentionDays,
      removalPolicy,
    });
    this.notifications = new SpoolNotifications(this, 'Notifications', {
      namePrefix,
      alertEmail: settings.alertEmail,
      removalPolicy,
    });

    // One configuration for every function (src/config.ts reads it); permissions differ per function.
    const { jobs, orders, callbacks } = this.queues;
    const environment: Record<string, string> = {
      SPOOL_BACKEND: 'aws',
      SPOOL_ENVIRONMENT: settings.environment,
      SPOOL_JOBS_QUEUE_URL: jobs.queue.queueUrl,
      SPOOL_JOBS_DLQ_URL: jobs.deadLetterQueue.queueUrl,
      SPOOL_ORDERS_QUEUE_URL: orders.queue.queueUrl,
      SPOOL_ORDERS_DLQ_URL: orders.deadLetterQueue.queueUrl,
      SPOOL_CALLBACKS_QUEUE_URL: callbacks.queue.queueUrl,
      SPOOL_CALLBACKS_DLQ_URL: callbacks.deadLetterQueue.queueUrl,
      SPOOL_JOBS_TABLE: this.storage.jobsTable.tableName,
      SPOOL_ORDERS_TABLE: this.storage.ordersTable.tableName,
      SPOOL_RESULTS_BUCKET: this.storage.resultsBucket.bucketName,
      SPOOL_ALERTS_TOPIC_ARN: this.notifications.alertsTopic.topicArn,
      SPOOL_CALLBACK_SECRET_ARN: this.notifications.callbackSecret.secretArn,
      SPOOL_JOBS_VISIBILITY_SECONDS: String(jobs.visibilityTimeout.toSeconds()),
      SPOOL_ORDERS_VISIBILITY_SECONDS: String(orders.visibilityTimeout.toSeconds()),
      SPOOL_JOBS_MAX_RECEIVE_COUNT: String(MAX_RECEIVE_COUNTS.jobs),
      SPOOL_ORDERS_MAX_RECEIVE_COUNT: String(MAX_RECEIVE_COUNTS.orders),
      SPOOL_CALLBACKS_MAX_RECEIVE_COUNT: String(MAX_RECEIVE_COUNTS.callbacks),
    };
    const functionSettings: FunctionSettings = {
      memorySize: settings.lambdaMemorySize,
      timeout: Duration.seconds(settings.lambdaTimeout),
      logRetentionDays: settings.logRetentionDays,
      removalPolicy,
      environment,
    };

    this.api = new SpoolApi(this, 'Api', {
      namePrefix,
      queues: this.queues,
      storage: this.storage,
      functionSettings,
      authorizer: settings.authorizer,
      jwtIssuer: settings.jwtIssuer,
      jwtAudience: settings.jwtAudience,
      corsAllowOrigins: settings.corsAllowOrigins,
      throttleRateLimit: settings.apiThrottleRateLimit,
      throttleBurstLimit: settings.apiThrottleBurstLimit,
      logRetentionDays: settings.logRetentionDays,
      removalPolicy,
    });
    this.workers = new SpoolWorkers(this, 'Workers', {
      namePrefix,
      queues: this.queues,
      storage: this.storage,
      notifications: this.notifications,
      functionSettings,
    });
    this.reconciler = new SpoolDeadLetterReconciler(this, 'DeadLetterReconciler', {
      namePrefix,
      queues: this.queues,
      storage: this.storage,
      notifications: this.notifications,
      functionSettings,
    });
    this.monitoring = new SpoolMonitoring(this, 'Monitoring', {
      namePrefix,
      queues: this.queues.all,
      functions: [
        { label: 'api', function: this.api.handler.function },
        { label: 'jobs-worker', function: this.workers.jobsWorker.function },
        { label: 'orders-worker', function: this.workers.ordersWorker.function },
        { label: 'callbacks-worker', function: this.workers.callbacksWorker.function },
        { label: 'dlq-reconciler', function: this.reconciler.reconciler.function },
      ],
      httpApi: this.api.httpApi,
      alertsTopic: this.notifications.alertsTopic,
      queueAgeAlarmSeconds: settings.queueAgeAlarmSeconds,
    });

    this.outputs({
      ApiUrl: [this.api.url, 'Base URL of the HTTP API'],
      JobsQueueUrl: [jobs.queue.queueUrl, 'SPOOL_JOBS_QUEUE_URL'],
      JobsDlqUrl: [jobs.deadLetterQueue.queueUrl, 'SPOOL_JOBS_DLQ_URL'],
      OrdersQueueUrl: [orders.queue.queueUrl, 'SPOOL_ORDERS_QUEUE_URL'],
      OrdersDlqUrl: [orders.deadLetterQueue.queueUrl, 'SPOOL_ORDERS_DLQ_URL'],
      CallbacksQueueUrl: [callbacks.queue.queueUrl, 'SPOOL_CALLBACKS_QUEUE_URL'],
      CallbacksDlqUrl: [callbacks.deadLetterQueue.queueUrl, 'SPOOL_CALLBACKS_DLQ_URL'],
      JobsTableName: [this.storage.jobsTable.tableName, 'SPOOL_JOBS_TABLE'],
      OrdersTableName: [this.storage.ordersTable.tableName, 'SPOOL_ORDERS_TABLE'],
      ResultsBucketName: [this.storage.resultsBucket.bucketName, 'SPOOL_RESULTS_BUCKET'],
      AlertsTopicArn: [this.notifications.alertsTopic.topicArn, 'SPOOL_ALERTS_TOPIC_ARN'],
      CallbackSecretArn: [this.notifications.callbackSecret.secretArn, 'SPOOL_CALLBACK_SECRET_ARN'],
      DashboardName: [this.monitoring.dashboard.dashboardName, 'CloudWatch dashboard'],
    });
  }

  private outputs(values: Record<string, [value: string, description: string]>): void {
    for (const [id, [value, description]] of Object.entries(values)) {
      new CfnOutput(this, id, { value, description });
    }
  }
}
