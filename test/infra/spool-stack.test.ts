/**
 * Template assertions for the Spool stack. One file on purpose (longer than the house ~400
 * lines): a single synthesis with real esbuild bundling serves every assertion, and the
 * variants below reuse the warm process; split files would each pay the cold start.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Template } from 'aws-cdk-lib/assertions';
import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROUTES } from '../../infra/constructs/api.js';
import { RECONCILE_SCHEDULE } from '../../infra/constructs/reconciler.js';
import { FUNCTION_RUNTIME } from '../../infra/constructs/spool-function.js';
import { resolveSettings, settingsFromContext, SpoolSettingsError } from '../../infra/settings.js';
import type { SpoolStack } from '../../infra/spool-stack.js';
import { logicalIdOf, synthSpoolTemplate } from './support/spool-app.js';
import {
  allPolicyStatements,
  asList,
  type CfnResourceJson,
  resourceName,
  resourcesOfType,
  templateJson,
} from './support/template-json.js';

// One synthesis with real esbuild bundling (checked below); the variants skip bundling.
let stack: SpoolStack;
let template: Template;
let outdir: string;
let resources: Record<string, CfnResourceJson>;

beforeAll(() => {
  const built = synthSpoolTemplate({}, { bundle: true });
  stack = built.stack;
  template = built.template;
  outdir = built.app.outdir;
  resources = templateJson(template).Resources;
}, 120_000); // bundling five functions takes seconds, far more on a loaded machine

const id = logicalIdOf;
const props = (logicalId: string): Record<string, unknown> => {
  const resource = resources[logicalId];
  if (resource === undefined) throw new Error(`no resource ${logicalId}`);
  return resource.Properties ?? {};
};
const functions = () => [
  { name: 'api', fn: stack.api.handler },
  { name: 'jobs-worker', fn: stack.workers.jobsWorker },
  { name: 'orders-worker', fn: stack.workers.ordersWorker },
  { name: 'callbacks-worker', fn: stack.workers.callbacksWorker },
  { name: 'dlq-reconciler', fn: stack.reconciler.reconciler },
];

describe('queues', () => {
  it('has a main queue and a DLQ for jobs (3 receives), orders (5) and callbacks (8)', () => {
    template.resourceCountIs('AWS::SQS::Queue', 6);
    const expected = { jobs: 3, orders: 5, callbacks: 8 } as const;
    for (const pair of stack.queues.all) {
      expect(props(id(pair.queue))).toMatchObject({
        QueueName: `spool-dev-${pair.name}`,
        RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [id(pair.deadLetterQueue), 'Arn'] }, maxReceiveCount: expected[pair.name] },
      });
      expect(props(id(pair.deadLetterQueue))).toMatchObject({ QueueName: `spool-dev-${pair.name}-dlq` });
      expect(props(id(pair.deadLetterQueue))['RedrivePolicy']).toBeUndefined();
    }
  });

  it('keeps messages 14 days, encrypts with SQS-managed SSE, on every queue', () => {
    for (const [, queue] of resourcesOfType(template, 'AWS::SQS::Queue')) {
      expect(queue.Properties).toMatchObject({ MessageRetentionPeriod: 1_209_600, SqsManagedSseEnabled: true });
    }
  });

  it('sets main-queue visibility to at least 6x the function timeout (and the recipe 300 s)', () => {
    const timeouts = resourcesOfType(template, 'AWS::Lambda::Function').map(([, f]) => f.Properties?.['Timeout'] as number);
    const longest = Math.max(...timeouts);
    for (const pair of stack.queues.all) {
      const visibility = props(id(pair.queue))['VisibilityTimeout'] as number;
      expect(visibility).toBe(300);
      expect(visibility).toBeGreaterThanOrEqual(6 * longest);
    }
  });

  it('refuses non-TLS requests on every queue (TLS-only queue policy)', () => {
    const queueIds = resourcesOfType(template, 'AWS::SQS::Queue').map(([logicalId]) => logicalId);
    for (const queueId of queueIds) {
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: queueId }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Deny',
              Action: 'sqs:*',
              Principal: { AWS: '*' },
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            }),
          ]),
        },
      });
    }
  });
});

describe('functions', () => {
  it(`run ${FUNCTION_RUNTIME.name} on arm64 with active tracing, JSON logs to a 14-day log group, 512 MB, 30 s`, () => {
    template.resourceCountIs('AWS::Lambda::Function', 5);
    expect(FUNCTION_RUNTIME.name).toMatch(/^nodejs(2[2-9]|[3-9]\d)\.x$/);
    for (const { name, fn } of functions()) {
      const fnProps = props(id(fn.function));
      expect(fnProps).toMatchObject({
        FunctionName: `spool-dev-${name}`,
        Runtime: FUNCTION_RUNTIME.name,
        Architectures: ['arm64'],
        Handler: 'index.handler',
        MemorySize: 512,
        Timeout: 30,
        TracingConfig: { Mode: 'Active' },
        LoggingConfig: { LogFormat: 'JSON', LogGroup: { Ref: id(fn.logGroup) } },
      });
      expect(props(id(fn.logGroup))).toMatchObject({ LogGroupName: `/aws/lambda/spool-dev-${name}`, RetentionInDays: 14 });
    }
  });

  it('bundle to minified ESM with a source map, from the five entry files', () => {
    for (const { fn } of functions()) {
      const code = props(id(fn.function))['Code'] as { S3Key: string };
      const assetDir = join(outdir, `asset.${code.S3Key.replace(/\.zip$/, '')}`);
      expect(existsSync(join(assetDir, 'index.mjs')), `${assetDir}/index.mjs`).toBe(true);
      expect(existsSync(join(assetDir, 'index.mjs.map')), `${assetDir}/index.mjs.map`).toBe(true);
      const bundle = readFileSync(join(assetDir, 'index.mjs'), 'utf8');
      expect(bundle).toContain('createRequire');
      expect(bundle).toMatch(/export\s*\{/);
    }
  });

  it('share one configuration with every SPOOL_* variable the AWS backend reads', () => {
    const { jobs, orders, callbacks } = stack.queues;
    const expected = {
      SPOOL_BACKEND: 'aws',
      SPOOL_ENVIRONMENT: 'dev',
      SPOOL_JOBS_QUEUE_URL: { Ref: id(jobs.queue) },
      SPOOL_JOBS_DLQ_URL: { Ref: id(jobs.deadLetterQueue) },
      SPOOL_ORDERS_QUEUE_URL: { Ref: id(orders.queue) },
      SPOOL_ORDERS_DLQ_URL: { Ref: id(orders.deadLetterQueue) },
      SPOOL_CALLBACKS_QUEUE_URL: { Ref: id(callbacks.queue) },
      SPOOL_CALLBACKS_DLQ_URL: { Ref: id(callbacks.deadLetterQueue) },
      SPOOL_JOBS_TABLE: { Ref: id(stack.storage.jobsTable) },
      SPOOL_ORDERS_TABLE: { Ref: id(stack.storage.ordersTable) },
      SPOOL_RESULTS_BUCKET: { Ref: id(stack.storage.resultsBucket) },
      SPOOL_ALERTS_TOPIC_ARN: { Ref: id(stack.notifications.alertsTopic) },
      SPOOL_CALLBACK_SECRET_ARN: { Ref: id(stack.notifications.callbackSecret) },
      SPOOL_JOBS_VISIBILITY_SECONDS: '300',
      SPOOL_ORDERS_VISIBILITY_SECONDS: '300',
      SPOOL_JOBS_MAX_RECEIVE_COUNT: '3',
      SPOOL_ORDERS_MAX_RECEIVE_COUNT: '5',
      SPOOL_CALLBACKS_MAX_RECEIVE_COUNT: '8',
    };
    for (const { fn } of functions()) {
      expect(props(id(fn.function))['Environment']).toEqual({
        Variables: { ...expected, NODE_OPTIONS: '--enable-source-maps' },
      });
    }
  });

  it('consume their queue with batches of 10, a 1 s window, max concurrency 10 and partial batch failures', () => {
    template.resourceCountIs('AWS::Lambda::EventSourceMapping', 3);
    const pairs = [
      [stack.workers.jobsWorker, stack.queues.jobs],
      [stack.workers.ordersWorker, stack.queues.orders],
      [stack.workers.callbacksWorker, stack.queues.callbacks],
    ] as const;
    for (const [worker, pair] of pairs) {
      template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        EventSourceArn: { 'Fn::GetAtt': [id(pair.queue), 'Arn'] },
        FunctionName: { Ref: id(worker.function) },
        BatchSize: 10,
        MaximumBatchingWindowInSeconds: 1,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        ScalingConfig: { MaximumConcurrency: 10 },
      });
    }
  });
});

describe('storage', () => {
  it('creates the jobs and orders tables: pk/sk, gsi1 (ALL), on-demand, PITR, TTL expiresAt, KMS SSE', () => {
    template.resourceCountIs('AWS::DynamoDB::Table', 2);
    for (const [table, name] of [
      [stack.storage.jobsTable, 'spool-dev-jobs'],
      [stack.storage.ordersTable, 'spool-dev-orders'],
    ] as const) {
      expect(props(id(table))).toMatchObject({
        TableName: name,
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
        // SSEEnabled without a key ARN: KMS with the AWS-managed aws/dynamodb key.
        SSESpecification: { SSEEnabled: true },
        GlobalSecondaryIndexes: [
          {
            IndexName: 'gsi1',
            KeySchema: [
              { AttributeName: 'gsi1pk', KeyType: 'HASH' },
              { AttributeName: 'gsi1sk', KeyType: 'RANGE' },
            ],
            Projection: { ProjectionType: 'ALL' },
          },
        ],
      });
      // dev default: data is destroyed with the stack
      expect(resources[id(table)]?.DeletionPolicy).toBe('Delete');
    }
  });

  it('keeps results private, TLS-only, S3-encrypted, without ACLs, expiring, and access-logged', () => {
    const bucket = props(id(stack.storage.resultsBucket));
    expect(bucket).toMatchObject({
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
      LoggingConfiguration: { DestinationBucketName: { Ref: id(stack.storage.accessLogsBucket) }, LogFilePrefix: 'results/' },
      LifecycleConfiguration: { Rules: [expect.objectContaining({ Status: 'Enabled', ExpirationInDays: 30 })] },
    });
    for (const b of [stack.storage.resultsBucket, stack.storage.accessLogsBucket]) {
      template.hasResourceProperties('AWS::S3::BucketPolicy', {
        Bucket: { Ref: id(b) },
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          ]),
        },
      });
    }
    expect(props(id(stack.storage.accessLogsBucket))).toMatchObject({
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
    });
  });
});

describe('notifications', () => {
  it('encrypts the alerts topic with a rotating customer-managed key usable by CloudWatch alarms', () => {
    const keyId = id(stack.notifications.node.findChild('AlertsKey'));
    expect(props(id(stack.notifications.alertsTopic))).toMatchObject({
      TopicName: 'spool-dev-alerts',
      KmsMasterKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] },
    });
    expect(props(keyId)).toMatchObject({
      EnableKeyRotation: true,
      KeyPolicy: {
        Statement: expect.arrayContaining([
          expect.objectContaining({
            Effect: 'Allow',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
          }),
        ]),
      },
    });
  });

  it('refuses non-TLS publishing (TLS-only topic policy)', () => {
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [{ Ref: id(stack.notifications.alertsTopic) }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Action: 'sns:Publish', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it('subscribes no email unless alertEmail is set', () => {
    template.resourceCountIs('AWS::SNS::Subscription', 0);
  });

  it('generates the callback HMAC key in Secrets Manager', () => {
    expect(props(id(stack.notifications.callbackSecret))).toMatchObject({
      GenerateSecretString: { PasswordLength: 64, ExcludePunctuation: true },
    });
  });
});

describe('monitoring', () => {
  const alarms = () => resourcesOfType(template, 'AWS::CloudWatch::Alarm').map(([, a]) => a.Properties ?? {});
  const alarmOn = (metricName: string, dimension: { Name: string; Value: unknown }) =>
    alarms().filter((a) => a['MetricName'] === metricName && JSON.stringify(a['Dimensions']) === JSON.stringify([dimension]));

  it('notifies the alerts topic from every alarm, on alarm and on recovery', () => {
    const topic = { Ref: id(stack.notifications.alertsTopic) };
    expect(alarms()).toHaveLength(3 * 2 + 5 * 2 + 1);
    for (const alarm of alarms()) {
      expect(alarm['AlarmActions']).toEqual([topic]);
      expect(alarm['OKActions']).toEqual([topic]);
    }
  });

  it('alarms on any visible message in each DLQ and on old messages in each main queue', () => {
    for (const pair of stack.queues.all) {
      const dlq = alarmOn('ApproximateNumberOfMessagesVisible', {
        Name: 'QueueName',
        Value: { 'Fn::GetAtt': [id(pair.deadLetterQueue), 'QueueName'] },
      });
      expect(dlq).toHaveLength(1);
      expect(dlq[0]).toMatchObject({ Namespace: 'AWS/SQS', Threshold: 0, ComparisonOperator: 'GreaterThanThreshold' });
      const age = alarmOn('ApproximateAgeOfOldestMessage', { Name: 'QueueName', Value: { 'Fn::GetAtt': [id(pair.queue), 'QueueName'] } });
      expect(age).toHaveLength(1);
      expect(age[0]).toMatchObject({ Namespace: 'AWS/SQS', Threshold: 600, ComparisonOperator: 'GreaterThanOrEqualToThreshold' });
    }
  });

  it('alarms on errors and throttles of every function and on API 5xx', () => {
    for (const { fn } of functions()) {
      for (const metric of ['Errors', 'Throttles']) {
        const found = alarmOn(metric, { Name: 'FunctionName', Value: { Ref: id(fn.function) } });
        expect(found, `${metric} alarm of ${fn.node.path}`).toHaveLength(1);
        expect(found[0]).toMatchObject({ Namespace: 'AWS/Lambda', Threshold: 1 });
      }
    }
    const api5xx = alarmOn('5xx', { Name: 'ApiId', Value: { Ref: id(stack.api.httpApi) } });
    expect(api5xx).toHaveLength(1);
    expect(api5xx[0]).toMatchObject({ Namespace: 'AWS/ApiGateway', Threshold: 1 });
  });

  it('builds a dashboard with queue, DLQ, function and API metrics', () => {
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    const body = JSON.stringify(props(id(stack.monitoring.dashboard))['DashboardBody']);
    for (const metric of [
      'ApproximateNumberOfMessagesVisible',
      'ApproximateAgeOfOldestMessage',
      'Invocations',
      'Errors',
      'Duration',
      'Count',
      'Latency',
      '5xx',
    ]) {
      expect(body, metric).toContain(`\\"${metric}\\"`);
    }
  });
});

describe('HTTP API', () => {
  const routeKeys = ROUTES.map((r) => `${r.method} ${r.path}`);

  it('routes all 14 paths to the one API function with payload format 2.0', () => {
    expect(new Set(routeKeys).size).toBe(14);
    template.resourceCountIs('AWS::ApiGatewayV2::Route', 14);
    template.resourceCountIs('AWS::ApiGatewayV2::Integration', 1);
    template.hasResourceProperties('AWS::ApiGatewayV2::Integration', {
      IntegrationType: 'AWS_PROXY',
      PayloadFormatVersion: '2.0',
      IntegrationUri: { 'Fn::GetAtt': [id(stack.api.handler.function), 'Arn'] },
    });
    const keys = resourcesOfType(template, 'AWS::ApiGatewayV2::Route').map(([, r]) => r.Properties?.['RouteKey']);
    expect(keys.sort()).toEqual([...routeKeys].sort());
  });

  it('enables CORS', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', {
      ProtocolType: 'HTTP',
      CorsConfiguration: Match.objectLike({ AllowOrigins: ['*'], AllowMethods: Match.arrayWith(['GET', 'POST']) }),
    });
  });

  it('throttles the default stage and writes JSON access logs to a log group with retention', () => {
    const stage = props(id(stack.api.stage));
    expect(stage).toMatchObject({
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: 100, ThrottlingBurstLimit: 200 },
      AccessLogSettings: { DestinationArn: { 'Fn::GetAtt': [id(stack.api.accessLogGroup), 'Arn'] } },
    });
    const format = JSON.parse((stage['AccessLogSettings'] as { Format: string }).Format) as Record<string, string>;
    expect(format).toMatchObject({ requestId: '$context.requestId', status: '$context.status', routeKey: '$context.routeKey' });
    expect(props(id(stack.api.accessLogGroup))).toMatchObject({ RetentionInDays: 14 });
  });

  it('has no authorizer by default', () => {
    template.resourceCountIs('AWS::ApiGatewayV2::Authorizer', 0);
    for (const [, route] of resourcesOfType(template, 'AWS::ApiGatewayV2::Route')) {
      expect(route.Properties?.['AuthorizationType']).toBe('NONE');
    }
  });

  it('lets API Gateway invoke the function with one permission scoped to this API', () => {
    template.resourceCountIs('AWS::Lambda::Permission', 1);
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      Principal: 'apigateway.amazonaws.com',
      FunctionName: { 'Fn::GetAtt': [id(stack.api.handler.function), 'Arn'] },
    });
  });
});

describe('authorizer variants', () => {
  const publicKeys = new Set(ROUTES.filter((r) => r.access === 'public').map((r) => `${r.method} ${r.path}`));
  const routeAuth = (t: Template) =>
    resourcesOfType(t, 'AWS::ApiGatewayV2::Route').map(([, r]) => ({
      key: r.Properties?.['RouteKey'] as string,
      type: r.Properties?.['AuthorizationType'] as string,
      authorizerId: r.Properties?.['AuthorizerId'],
    }));

  it('iam: signs every route but health and the API description, admin routes included', { timeout: 60_000 }, () => {
    const { template: t } = synthSpoolTemplate({ authorizer: 'iam' });
    t.resourceCountIs('AWS::ApiGatewayV2::Authorizer', 0);
    for (const route of routeAuth(t)) {
      expect(route.type, route.key).toBe(publicKeys.has(route.key) ? 'NONE' : 'AWS_IAM');
    }
    expect(routeAuth(t).filter((r) => r.key.includes('/admin/')).every((r) => r.type === 'AWS_IAM')).toBe(true);
  });

  it('jwt: validates tokens from the issuer for the audience on every non-public route', { timeout: 60_000 }, () => {
    const { template: t, stack: s } = synthSpoolTemplate({
      authorizer: 'jwt',
      jwtIssuer: 'https://issuer.example.com',
      jwtAudience: ['spool-api'],
    });
    t.resourceCountIs('AWS::ApiGatewayV2::Authorizer', 1);
    t.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'JWT',
      IdentitySource: ['$request.header.Authorization'],
      JwtConfiguration: { Issuer: 'https://issuer.example.com', Audience: ['spool-api'] },
    });
    const [authorizerId] = resourcesOfType(t, 'AWS::ApiGatewayV2::Authorizer').map(([logicalId]) => logicalId);
    for (const route of routeAuth(t)) {
      if (publicKeys.has(route.key)) {
        expect(route.type, route.key).toBe('NONE');
      } else {
        expect(route, route.key).toMatchObject({ type: 'JWT', authorizerId: { Ref: authorizerId } });
      }
    }
    expect(s.settings.authorizer).toBe('jwt');
  });

  it('rejects jwt without issuer or audience, and other invalid parameters, all at once', () => {
    expect(() => resolveSettings({ authorizer: 'jwt' })).toThrow(SpoolSettingsError);
    try {
      resolveSettings({ authorizer: 'jwt', lambdaTimeout: 0, logRetentionDays: 13, environment: 'Prod' });
      expect.unreachable();
    } catch (error) {
      const problems = (error as SpoolSettingsError).problems.join('\n');
      for (const name of ['jwtIssuer', 'jwtAudience', 'lambdaTimeout', 'logRetentionDays', 'environment']) {
        expect(problems).toContain(name);
      }
    }
  });
});

describe('parameters', () => {
  it('reads CDK context strings (-c key=value) into typed parameters', () => {
    const context: Record<string, string> = {
      environment: 'prod',
      lambdaMemorySize: '1024',
      jwtAudience: 'a, b',
      authorizer: 'jwt',
      jwtIssuer: 'https://issuer.example.com',
    };
    const settings = resolveSettings(settingsFromContext((key) => context[key]));
    expect(settings).toMatchObject({
      environment: 'prod',
      lambdaMemorySize: 1024,
      jwtAudience: ['a', 'b'],
      dataRemovalPolicy: 'retain',
      namePrefix: 'spool-prod',
    });
  });

  it('applies memory, timeout, retention, expiration, email and removal parameters', { timeout: 60_000 }, () => {
    const { template: t, stack: s } = synthSpoolTemplate({
      environment: 'prod',
      alertEmail: 'ops@example.com',
      lambdaMemorySize: 1024,
      lambdaTimeout: 120,
      logRetentionDays: 30,
      resultsExpirationDays: 7,
      queueAgeAlarmSeconds: 900,
    });
    const r = templateJson(t).Resources;
    for (const [, fn] of resourcesOfType(t, 'AWS::Lambda::Function')) {
      expect(fn.Properties).toMatchObject({ MemorySize: 1024, Timeout: 120 });
      const env = (fn.Properties?.['Environment'] as { Variables: Record<string, string> }).Variables;
      // 6 x 120 s + the 1 s batching window
      expect(env).toMatchObject({ SPOOL_ENVIRONMENT: 'prod', SPOOL_JOBS_VISIBILITY_SECONDS: '721', SPOOL_ORDERS_VISIBILITY_SECONDS: '721' });
    }
    for (const pair of s.queues.all) {
      expect(r[id(pair.queue)]?.Properties?.['VisibilityTimeout']).toBe(721);
    }
    for (const [, group] of resourcesOfType(t, 'AWS::Logs::LogGroup')) {
      expect(group.Properties?.['RetentionInDays']).toBe(30);
      expect(group.DeletionPolicy).toBe('Retain');
    }
    expect(JSON.stringify(r[id(s.storage.resultsBucket)]?.Properties?.['LifecycleConfiguration'])).toContain('"ExpirationInDays":7');
    for (const table of [s.storage.jobsTable, s.storage.ordersTable]) {
      expect(r[id(table)]).toMatchObject({ DeletionPolicy: 'Retain', Properties: { DeletionProtectionEnabled: true } });
    }
    t.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
      TopicArn: { Ref: id(s.notifications.alertsTopic) },
    });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'ApproximateAgeOfOldestMessage', Threshold: 900 });
    expect(s.stackName).toBe('spool-test');
  });
});

describe('outputs', () => {
  it('exports the API URL and every resource the AWS backend is configured with', () => {
    const outputs = templateJson(template).Outputs ?? {};
    for (const name of [
      'ApiUrl',
      'JobsQueueUrl',
      'JobsDlqUrl',
      'OrdersQueueUrl',
      'OrdersDlqUrl',
      'CallbacksQueueUrl',
      'CallbacksDlqUrl',
      'JobsTableName',
      'OrdersTableName',
      'ResultsBucketName',
      'AlertsTopicArn',
    ]) {
      expect(outputs[name], name).toBeDefined();
    }
    expect(outputs['JobsQueueUrl']?.Value).toEqual({ Ref: id(stack.queues.jobs.queue) });
    expect(JSON.stringify(outputs['ApiUrl']?.Value)).toContain(id(stack.api.httpApi));
  });
});

describe('least privilege', () => {
  it('grants no wildcard action anywhere; wildcard Deny only as a TLS guard', () => {
    const statements = allPolicyStatements(template);
    expect(statements.length).toBeGreaterThan(20);
    const offenders: string[] = [];
    for (const { logicalId, path, statement } of statements) {
      if (statement.NotAction !== undefined) offenders.push(`${logicalId} ${path}: NotAction`);
      for (const action of asList(statement.Action)) {
        if (!action.includes('*')) continue;
        // enforceSSL on queues and buckets denies `sqs:*` / `s3:*` without TLS: a Deny with a
        // wildcard is the stronger form (it also covers actions added to the service later).
        const condition = JSON.stringify(statement.Condition ?? {});
        const tlsGuard =
          statement.Effect === 'Deny' &&
          (condition === '{"Bool":{"aws:SecureTransport":"false"}}' || condition === '{"NumericLessThan":{"s3:TlsVersion":1.2}}');
        if (!tlsGuard) offenders.push(`${logicalId} ${path}: ${statement.Effect} ${action}`);
      }
    }
    expect(offenders).toEqual([]);
  });

  it('attaches no managed policies; Resource "*" only for X-Ray, which has no resource-level permissions', () => {
    for (const [logicalId, role] of resourcesOfType(template, 'AWS::IAM::Role')) {
      expect(role.Properties?.['ManagedPolicyArns'], logicalId).toBeUndefined();
    }
    for (const { logicalId, statement } of allPolicyStatements(template)) {
      if (!resourcesOfType(template, 'AWS::IAM::Policy').some(([p]) => p === logicalId)) continue;
      if (asList(statement.Resource as string | string[]).includes('*')) {
        expect(asList(statement.Action).sort()).toEqual(['xray:PutTelemetryRecords', 'xray:PutTraceSegments']);
      }
    }
  });

  it('grants each function exactly what it uses', () => {
    const { queues, storage, notifications } = stack;
    const names = new Map<string, string>([
      [id(storage.jobsTable), 'jobsTable'],
      [id(storage.ordersTable), 'ordersTable'],
      [id(storage.resultsBucket), 'results'],
      [id(notifications.alertsTopic), 'alerts'],
      [id(notifications.node.findChild('AlertsKey')), 'alertsKey'],
      [id(notifications.callbackSecret), 'callbackSecret'],
      ...queues.all.flatMap((p) => [
        [id(p.queue), `${p.name}Queue`],
        [id(p.deadLetterQueue), `${p.name}Dlq`],
      ] as Array<[string, string]>),
      ...functions().map(({ fn }) => [id(fn.logGroup), 'ownLogGroup'] as [string, string]),
      [id(stack.reconciler.reconciler.function), 'reconcilerFunction'],
    ]);
    const friendly = (resource: unknown): string => {
      const raw = resourceName(resource);
      const [head = raw, ...rest] = raw.split('/');
      return [names.get(head) ?? head, ...rest].join('/');
    };
    const grantsOf = (roleId: string): Record<string, string[]> => {
      const grants: Record<string, Set<string>> = {};
      for (const [, policy] of resourcesOfType(template, 'AWS::IAM::Policy')) {
        if (JSON.stringify(policy.Properties?.['Roles']) !== JSON.stringify([{ Ref: roleId }])) continue;
        const doc = policy.Properties?.['PolicyDocument'] as { Statement: Array<{ Effect: string; Action: string | string[]; Resource: unknown }> };
        for (const statement of doc.Statement) {
          expect(statement.Effect).toBe('Allow');
          const targets = Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource];
          for (const action of asList(statement.Action)) {
            for (const target of targets) (grants[action] ??= new Set()).add(friendly(target));
          }
        }
      }
      return Object.fromEntries(Object.entries(grants).map(([action, set]) => [action, [...set].sort()]));
    };
    const base = {
      'logs:CreateLogStream': ['ownLogGroup'],
      'logs:PutLogEvents': ['ownLogGroup'],
      'xray:PutTelemetryRecords': ['*'],
      'xray:PutTraceSegments': ['*'],
    };
    const tableRw = (t: string) =>
      Object.fromEntries(['GetItem', 'PutItem', 'UpdateItem', 'DeleteItem', 'Query'].map((a) => [`dynamodb:${a}`, [t, `${t}/index/gsi1`]]));
    const consume = (q: string) => ({
      'sqs:ReceiveMessage': [q],
      'sqs:DeleteMessage': [q],
      'sqs:ChangeMessageVisibility': [q],
      'sqs:GetQueueAttributes': [q],
      'sqs:GetQueueUrl': [q],
    });
    const publishAlerts = { 'sns:Publish': ['alerts'], 'kms:Decrypt': ['alertsKey'], 'kms:GenerateDataKey': ['alertsKey'] };
    const sorted = (o: Record<string, string[]>) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, [...v].sort()]));

    expect(grantsOf(id(stack.api.handler.role))).toEqual(
      sorted({
        ...base,
        'dynamodb:GetItem': ['jobsTable', 'jobsTable/index/gsi1', 'ordersTable', 'ordersTable/index/gsi1'],
        'dynamodb:PutItem': ['jobsTable', 'jobsTable/index/gsi1', 'ordersTable', 'ordersTable/index/gsi1'],
        'dynamodb:UpdateItem': ['jobsTable', 'jobsTable/index/gsi1', 'ordersTable', 'ordersTable/index/gsi1'],
        'dynamodb:DeleteItem': ['jobsTable', 'jobsTable/index/gsi1', 'ordersTable', 'ordersTable/index/gsi1'],
        'dynamodb:Query': ['jobsTable', 'jobsTable/index/gsi1', 'ordersTable', 'ordersTable/index/gsi1'],
        'sqs:SendMessage': ['jobsQueue', 'ordersQueue', 'callbacksQueue'],
        'sqs:GetQueueAttributes': ['jobsQueue', 'ordersQueue', 'callbacksQueue', 'jobsDlq', 'ordersDlq', 'callbacksDlq'],
        'sqs:ReceiveMessage': ['jobsDlq', 'ordersDlq', 'callbacksDlq'],
        'sqs:DeleteMessage': ['jobsDlq', 'ordersDlq', 'callbacksDlq'],
        'dynamodb:DescribeTable': ['jobsTable'],
        's3:GetObject': ['results/*'],
        's3:ListBucket': ['results'],
      }),
    );
    expect(grantsOf(id(stack.workers.jobsWorker.role))).toEqual(
      sorted({
        ...base,
        ...tableRw('jobsTable'),
        ...consume('jobsQueue'),
        'sqs:SendMessage': ['callbacksQueue'],
        'sqs:GetQueueAttributes': ['callbacksQueue', 'jobsQueue'],
        's3:GetObject': ['results/*'],
        's3:PutObject': ['results/*'],
        's3:ListBucket': ['results'],
        ...publishAlerts,
      }),
    );
    expect(grantsOf(id(stack.workers.ordersWorker.role))).toEqual(
      sorted({ ...base, ...tableRw('ordersTable'), ...consume('ordersQueue'), ...publishAlerts }),
    );
    expect(grantsOf(id(stack.workers.callbacksWorker.role))).toEqual(
      sorted({
        ...base,
        ...consume('callbacksQueue'),
        'secretsmanager:GetSecretValue': ['callbackSecret'],
        'secretsmanager:DescribeSecret': ['callbackSecret'],
        ...publishAlerts,
      }),
    );
    // Peeks the three DLQs; on the main queues only sends callbacks; writes jobs by key (ledger, status).
    expect(grantsOf(id(stack.reconciler.reconciler.role))).toEqual(
      sorted({
        ...base,
        'sqs:ReceiveMessage': ['jobsDlq', 'ordersDlq', 'callbacksDlq'],
        'sqs:SendMessage': ['callbacksQueue'],
        'dynamodb:PutItem': ['jobsTable'],
        'dynamodb:UpdateItem': ['jobsTable'],
        ...publishAlerts,
      }),
    );
    expect(grantsOf(id(stack.reconciler.scheduleRole))).toEqual({ 'lambda:InvokeFunction': ['reconcilerFunction'] });
  });
});

describe('dead-letter reconciler', () => {
  const reconciler = () => stack.reconciler;

  it('is invoked by an EventBridge Scheduler schedule at rate(5 minutes), through a role of its own', () => {
    expect(RECONCILE_SCHEDULE.expression).toBe('rate(5 minutes)');
    const schedules = resourcesOfType(template, 'AWS::Scheduler::Schedule');
    expect(schedules).toHaveLength(1);
    expect(schedules[0]?.[1].Properties).toEqual({
      Name: 'spool-dev-dlq-reconciler',
      Description: expect.any(String),
      ScheduleExpression: 'rate(5 minutes)',
      FlexibleTimeWindow: { Mode: 'OFF' },
      State: 'ENABLED',
      Target: {
        Arn: { 'Fn::GetAtt': [id(reconciler().reconciler.function), 'Arn'] },
        RoleArn: { 'Fn::GetAtt': [id(reconciler().scheduleRole), 'Arn'] },
        RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 300 },
      },
    });
    // Created after the role's policy, so the first tick can invoke.
    const dependsOn = (templateJson(template).Resources[id(reconciler().schedule)] as { DependsOn?: string[] }).DependsOn ?? [];
    const rolePolicy = reconciler().scheduleRole.node.findChild('DefaultPolicy');
    expect(dependsOn).toEqual(expect.arrayContaining([id(reconciler().scheduleRole), id(rolePolicy)]));
  });

  it("lets only this account's schedules assume the schedule role", () => {
    expect(props(id(reconciler().scheduleRole))['AssumeRolePolicyDocument']).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Action: 'sts:AssumeRole',
          Principal: { Service: 'scheduler.amazonaws.com' },
          Condition: {
            StringEquals: {
              'aws:SourceAccount': '123456789012',
              'aws:SourceArn': 'arn:aws:scheduler:us-east-1:123456789012:schedule-group/default',
            },
          },
        },
      ],
    });
  });

  it('gives the function no resource policy (nothing but the API function has a Lambda permission)', () => {
    for (const [, permission] of resourcesOfType(template, 'AWS::Lambda::Permission')) {
      expect(JSON.stringify(permission.Properties)).not.toContain(id(reconciler().reconciler.function));
    }
  });

  it('receives from the three DLQs only, never deletes, and touches the main queues only to send callbacks', () => {
    const { queues } = stack;
    const statements = allPolicyStatements(template).filter(({ logicalId, resourceType }) => {
      if (resourceType !== 'AWS::IAM::Policy') return false;
      return JSON.stringify(resources[logicalId]?.Properties?.['Roles']) === JSON.stringify([{ Ref: id(reconciler().reconciler.role) }]);
    });
    const on = (queueId: string) =>
      statements
        .filter(({ statement }) => asList(statement.Resource as string | string[]).length > 0 && JSON.stringify(statement.Resource).includes(`"${queueId}"`))
        .flatMap(({ statement }) => asList(statement.Action))
        .sort();
    for (const pair of queues.all) expect(on(id(pair.deadLetterQueue)), `${pair.name} DLQ`).toEqual(['sqs:ReceiveMessage']);
    expect(on(id(queues.jobs.queue))).toEqual([]);
    expect(on(id(queues.orders.queue))).toEqual([]);
    expect(on(id(queues.callbacks.queue))).toEqual(['sqs:SendMessage']);
    for (const { statement } of statements) {
      expect(statement.Effect).toBe('Allow');
      for (const action of asList(statement.Action)) expect(action).not.toContain('*');
    }
  });

  it('alarms on its errors and throttles', () => {
    const alarmsOf = resourcesOfType(template, 'AWS::CloudWatch::Alarm')
      .map(([, a]) => a.Properties ?? {})
      .filter((a) => JSON.stringify(a['Dimensions']) === JSON.stringify([{ Name: 'FunctionName', Value: { Ref: id(reconciler().reconciler.function) } }]));
    expect(alarmsOf.map((a) => [a['AlarmName'], a['MetricName']]).sort()).toEqual([
      ['spool-dev-dlq-reconciler-errors', 'Errors'],
      ['spool-dev-dlq-reconciler-throttles', 'Throttles'],
    ]);
  });

  it('bundles without HTTP code (no hono): about the size of a queue worker, far below the API', () => {
    const bundleOf = (fn: { function: Parameters<typeof id>[0] }) => {
      const code = props(id(fn.function))['Code'] as { S3Key: string };
      return readFileSync(join(outdir, `asset.${code.S3Key.replace(/\.zip$/, '')}`, 'index.mjs'), 'utf8');
    };
    const bundle = bundleOf(reconciler().reconciler);
    expect(bundle).toContain('dead-letter reconciliation');
    expect(bundle.toLowerCase()).not.toContain('hono');
    expect(bundle.length).toBeLessThanOrEqual(1.1 * bundleOf(stack.workers.jobsWorker).length);
    expect(bundle.length).toBeLessThan(0.5 * bundleOf(stack.api.handler).length);
  });
});
