/**
 * Template assertions for the users and tasks stacks on Aurora DSQL (one per region). The
 * peered (second-deployment) synthesis bundles the functions for real, once, and serves most
 * assertions; the others skip bundling.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Annotations, Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { FUNCTION_RUNTIME } from '../../infra/constructs/spool-function.js';
import { TASK_PROCESSING_RULE, TASK_PROCESSOR_TARGET_ID } from '../../infra/constructs/task-events.js';
import { APP_DB_ROLE, TASK_ROUTES } from '../../infra/constructs/tasks-api.js';
import { resolveTasksSettings, SpoolSettingsError, tasksSettingsFromContext } from '../../infra/settings.js';
import type { TasksRegionStack } from '../../infra/tasks-region-stack.js';
import { TASK_PROCESSING_PATTERN } from '../../src/domain/tasks/task-events.js';
import { logicalIdOf as id } from './support/spool-app.js';
import { PEERED, PRIMARY_CLUSTER_ID, SECONDARY_CLUSTER_ID, synthTasksTemplates } from './support/tasks-app.js';
import { allPolicyStatements, asList, type CfnResourceJson, resourceName, resourcesOfType, templateJson } from './support/template-json.js';

let primary: TasksRegionStack;
let secondary: TasksRegionStack;
let template: Template;
let secondaryTemplate: Template;
let outdir: string;
let resources: Record<string, CfnResourceJson>;

beforeAll(() => {
  const built = synthTasksTemplates(PEERED, { bundle: true });
  ({ primary, secondary, secondaryTemplate } = built);
  template = built.primaryTemplate;
  outdir = built.app.outdir;
  resources = templateJson(template).Resources;
}, 180_000); // bundling the task API twice per stack takes seconds, far more on a loaded machine

const props = (logicalId: string, t: Template = template): Record<string, unknown> => {
  const resource = templateJson(t).Resources[logicalId];
  if (resource === undefined) throw new Error(`no resource ${logicalId}`);
  return resource.Properties ?? {};
};
// The stacks' account is known in the tests (deploy fills it in from the credentials otherwise).
const clusterArnIn = (region: string, identifier: string) => `arn:aws:dsql:${region}:123456789012:cluster/${identifier}`;

describe('parameters', () => {
  it('default to us-east-1 and us-east-2 peered through witness us-west-2, clusters task-mgmt-*, deletion protection on, unpeered', () => {
    expect(resolveTasksSettings({})).toMatchObject({
      primaryRegion: 'us-east-1',
      secondaryRegion: 'us-east-2',
      witnessRegion: 'us-west-2',
      clusterNamePrefix: 'task-mgmt',
      clusterDeletionProtection: true,
      peerClusterIds: undefined,
      regions: ['us-east-1', 'us-east-2'],
      namePrefix: 'spool-dev',
    });
  });

  it('reports every invalid parameter at once, shared ones included', () => {
    try {
      resolveTasksSettings({ primaryRegion: 'US-EAST-1', secondaryRegion: 'us-west-2', witnessRegion: 'us-west-2', clusterNamePrefix: 'Task_Mgmt', primaryClusterId: 'short', lambdaTimeout: 0 });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(SpoolSettingsError);
      const problems = (error as SpoolSettingsError).problems.join('\n');
      for (const name of ['primaryRegion must be an AWS region', 'three different regions', 'clusterNamePrefix', 'primaryClusterId must be', 'go together', 'lambdaTimeout']) {
        expect(problems).toContain(name);
      }
    }
  });

  it('reads context strings (-c key=value), booleans included', () => {
    const context: Record<string, string> = {
      primaryRegion: 'eu-west-1',
      secondaryRegion: 'eu-west-2',
      witnessRegion: 'eu-west-3',
      clusterDeletionProtection: 'false',
      primaryClusterId: PRIMARY_CLUSTER_ID,
      secondaryClusterId: SECONDARY_CLUSTER_ID,
      environment: 'prod',
    };
    expect(resolveTasksSettings(tasksSettingsFromContext((key) => context[key]))).toMatchObject({
      regions: ['eu-west-1', 'eu-west-2'],
      witnessRegion: 'eu-west-3',
      clusterDeletionProtection: false,
      peerClusterIds: { primary: PRIMARY_CLUSTER_ID, secondary: SECONDARY_CLUSTER_ID },
      environment: 'prod',
    });
    expect(() => resolveTasksSettings(tasksSettingsFromContext((key) => ({ clusterDeletionProtection: 'maybe' })[key]))).toThrow(/clusterDeletionProtection/);
  });

  it('make one stack per peered region, named after it, in that region', () => {
    expect([primary.stackName, secondary.stackName]).toEqual(['spool-dev-tasks-us-east-1', 'spool-dev-tasks-us-east-2']);
    expect([primary.region, secondary.region]).toEqual(['us-east-1', 'us-east-2']);
  });
});

describe('Aurora DSQL cluster', () => {
  it('first deployment: an unpeered multi-Region cluster with the witness region only, and a warning saying what comes next', { timeout: 60_000 }, () => {
    const { primaryTemplate: t, primary: stack } = synthTasksTemplates({});
    t.resourceCountIs('AWS::DSQL::Cluster', 1);
    const [[, cluster]] = resourcesOfType(t, 'AWS::DSQL::Cluster') as [[string, CfnResourceJson]];
    expect(cluster.Properties).toMatchObject({ DeletionProtectionEnabled: true, MultiRegionProperties: { WitnessRegion: 'us-west-2' } });
    expect(cluster.Properties?.['MultiRegionProperties']).not.toHaveProperty('Clusters');
    expect(cluster.DeletionPolicy).toBe('Delete'); // dev: destroyed with the stack, once deletion protection is lifted
    Annotations.fromStack(stack).hasWarning('*', Match.stringLikeRegexp('primaryClusterId=<id> -c secondaryClusterId=<id>'));
  });

  it('second deployment: both regions list the same two cluster ARNs (account and partition of the stack) and the witness', () => {
    for (const t of [template, secondaryTemplate]) {
      const [[, cluster]] = resourcesOfType(t, 'AWS::DSQL::Cluster') as [[string, CfnResourceJson]];
      expect(cluster.Properties?.['MultiRegionProperties']).toEqual({
        WitnessRegion: 'us-west-2',
        Clusters: [clusterArnIn('us-east-1', PRIMARY_CLUSTER_ID), clusterArnIn('us-east-2', SECONDARY_CLUSTER_ID)],
      });
    }
    expect(Annotations.fromStack(primary).findWarning('*', Match.stringLikeRegexp('PENDING_SETUP'))).toEqual([]);
  });

  it('is tagged with its name per region, and kept with deletion protection in prod; protection is a parameter', { timeout: 60_000 }, () => {
    template.hasResourceProperties('AWS::DSQL::Cluster', { Tags: Match.arrayWith([{ Key: 'Name', Value: 'task-mgmt-us-east-1' }, { Key: 'project', Value: 'spool' }]) });
    secondaryTemplate.hasResourceProperties('AWS::DSQL::Cluster', { Tags: Match.arrayWith([{ Key: 'Name', Value: 'task-mgmt-us-east-2' }]) });
    const { primaryTemplate: prod } = synthTasksTemplates({ ...PEERED, environment: 'prod', clusterNamePrefix: 'tasks' });
    const [[, cluster]] = resourcesOfType(prod, 'AWS::DSQL::Cluster') as [[string, CfnResourceJson]];
    expect(cluster).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain', Properties: { DeletionProtectionEnabled: true } });
    expect(cluster.Properties?.['Tags']).toEqual(expect.arrayContaining([{ Key: 'Name', Value: 'tasks-us-east-1' }]));
    const { primaryTemplate: unprotected } = synthTasksTemplates({ clusterDeletionProtection: false });
    unprotected.hasResourceProperties('AWS::DSQL::Cluster', { DeletionProtectionEnabled: false });
  });
});

describe('task events', () => {
  it('has the custom bus task-events-<env>', () => {
    template.resourceCountIs('AWS::Events::EventBus', 1);
    expect(props(id(primary.events.bus))).toMatchObject({ Name: 'task-events-dev' });
  });

  it('routes the task pattern of the local runtime with rule task-processing-rule to the task API function, with retries and a DLQ', () => {
    template.resourceCountIs('AWS::Events::Rule', 1);
    const rule = props(id(primary.events.rule));
    expect(rule).toMatchObject({ Name: TASK_PROCESSING_RULE, EventBusName: { Ref: id(primary.events.bus) }, State: 'ENABLED' });
    expect(rule['EventPattern']).toEqual(JSON.parse(TASK_PROCESSING_PATTERN));
    expect(rule['Targets']).toEqual([
      {
        Id: TASK_PROCESSOR_TARGET_ID,
        Arn: { 'Fn::GetAtt': [id(primary.api.handler.function), 'Arn'] },
        RetryPolicy: { MaximumRetryAttempts: 10, MaximumEventAgeInSeconds: 7200 },
        DeadLetterConfig: { Arn: { 'Fn::GetAtt': [id(primary.events.targetDeadLetterQueue), 'Arn'] } },
      },
    ]);
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      Principal: 'events.amazonaws.com',
      SourceArn: { 'Fn::GetAtt': [id(primary.events.rule), 'Arn'] },
    });
  });

  it('dead-letters what the function fails on (after Lambda\'s retries) in the function\'s own DLQ', () => {
    expect(props(id(primary.api.handler.function))['DeadLetterConfig']).toEqual({
      TargetArn: { 'Fn::GetAtt': [id(primary.events.processorDeadLetterQueue), 'Arn'] },
    });
  });

  it('keeps both DLQs 14 days, SSE-SQS encrypted, TLS-only', () => {
    template.resourceCountIs('AWS::SQS::Queue', 2);
    expect(props(id(primary.events.targetDeadLetterQueue))).toMatchObject({ QueueName: 'spool-dev-task-events-dlq' });
    expect(props(id(primary.events.processorDeadLetterQueue))).toMatchObject({ QueueName: 'spool-dev-task-processor-dlq' });
    for (const [queueId, queue] of resourcesOfType(template, 'AWS::SQS::Queue')) {
      expect(queue.Properties).toMatchObject({ MessageRetentionPeriod: 1_209_600, SqsManagedSseEnabled: true });
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: queueId }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Action: 'sqs:*', Principal: { AWS: '*' }, Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          ]),
        },
      });
    }
  });

  it('lets only events.amazonaws.com send to the target DLQ, and only for task-processing-rule; nobody by policy to the function DLQ', () => {
    const allowsOf = (queue: { node: unknown }) =>
      allPolicyStatements(template)
        .filter((s) => s.resourceType === 'AWS::SQS::QueuePolicy' && s.statement.Effect === 'Allow')
        .filter((s) => JSON.stringify(props(s.logicalId)['Queues']) === JSON.stringify([{ Ref: id(queue as never) }]))
        .map((s) => s.statement);
    const [allow, ...more] = allowsOf(primary.events.targetDeadLetterQueue);
    expect(more).toEqual([]);
    expect(allow).toMatchObject({
      Principal: { Service: 'events.amazonaws.com' },
      Action: 'sqs:SendMessage',
      Resource: { 'Fn::GetAtt': [id(primary.events.targetDeadLetterQueue), 'Arn'] },
      Condition: { ArnEquals: { 'aws:SourceArn': { 'Fn::GetAtt': [id(primary.events.rule), 'Arn'] } } },
    });
    expect(allowsOf(primary.events.processorDeadLetterQueue)).toEqual([]);
  });
});

describe('functions', () => {
  const both = () => [
    { name: 'task-processor-dev', fn: primary.api.handler },
    { name: 'task-migrate-dev', fn: primary.api.migrator },
  ];

  it(`run ${FUNCTION_RUNTIME.name} on arm64 with active tracing and JSON logs to a 14-day log group`, () => {
    template.resourceCountIs('AWS::Lambda::Function', 2);
    for (const { name, fn } of both()) {
      expect(props(id(fn.function))).toMatchObject({
        FunctionName: name,
        Runtime: FUNCTION_RUNTIME.name,
        Architectures: ['arm64'],
        Handler: 'index.handler',
        MemorySize: 512,
        TracingConfig: { Mode: 'Active' },
        LoggingConfig: { LogFormat: 'JSON', LogGroup: { Ref: id(fn.logGroup) } },
      });
      expect(props(id(fn.logGroup))).toMatchObject({ LogGroupName: `/aws/lambda/${name}`, RetentionInDays: 14 });
    }
    expect(props(id(primary.api.handler.function))).toMatchObject({ Timeout: 30 });
    expect(props(id(primary.api.migrator.function))).toMatchObject({ Timeout: 300 });
  });

  it('configure the API function for DSQL as the application role, and the migrate function as admin', () => {
    const endpoint = { 'Fn::GetAtt': [id(primary.cluster.cluster), 'Endpoint'] };
    const common = { SPOOL_ENVIRONMENT: 'dev', SPOOL_DSQL_ENDPOINT: endpoint, SPOOL_DSQL_REGION: 'us-east-1', NODE_OPTIONS: '--enable-source-maps' };
    expect(props(id(primary.api.handler.function))['Environment']).toEqual({
      Variables: { ...common, SPOOL_TASK_API_MODE: 'api', SPOOL_DSQL_USER: APP_DB_ROLE, SPOOL_EVENT_BUS_NAME: { Ref: id(primary.events.bus) } },
    });
    expect(props(id(primary.api.migrator.function))['Environment']).toEqual({
      Variables: {
        ...common,
        SPOOL_TASK_API_MODE: 'migrate',
        SPOOL_DSQL_USER: 'admin',
        SPOOL_DSQL_APP_ROLE: APP_DB_ROLE,
        SPOOL_DSQL_APP_IAM_ROLE_ARN: { 'Fn::GetAtt': [id(primary.api.handler.role), 'Arn'] },
      },
    });
    expect(props(id(secondary.api.handler.function), secondaryTemplate)['Environment']).toMatchObject({ Variables: { SPOOL_DSQL_REGION: 'us-east-2' } });
  });

  it('bundle the entry with the AWS SDK inlined (the DSQL signer is not in the Lambda runtime) and without native addons', () => {
    for (const { fn } of both()) {
      const code = props(id(fn.function))['Code'] as { S3Key: string };
      const assetDir = join(outdir, `asset.${code.S3Key.replace(/\.zip$/, '')}`);
      expect(existsSync(join(assetDir, 'index.mjs')), `${assetDir}/index.mjs`).toBe(true);
      const bundle = readFileSync(join(assetDir, 'index.mjs'), 'utf8');
      expect(bundle).toContain('DbConnect'); // the signer's action names, bundled
      expect(bundle).not.toMatch(/from\s*["'](better-sqlite3|@aws-sdk\/[^"']+)["']/);
      expect(bundle).toMatch(/export\s*\{/);
    }
  });
});

describe('HTTP API', () => {
  it('routes the users and tasks paths to the task API function with payload format 2.0', () => {
    const routeKeys = TASK_ROUTES.map((r) => `${r.method} ${r.path}`);
    expect(new Set(routeKeys).size).toBe(TASK_ROUTES.length);
    for (const key of ['GET /tasks', 'POST /tasks', 'PATCH /tasks/{id}', 'POST /users', 'GET /users', 'GET /health']) expect(routeKeys).toContain(key);
    expect(routeKeys.filter((k) => /jobs|orders|submit|admin|stream/.test(k))).toEqual([]);
    const keys = resourcesOfType(template, 'AWS::ApiGatewayV2::Route').map(([, r]) => r.Properties?.['RouteKey']);
    expect(keys.sort()).toEqual([...routeKeys].sort());
    template.resourceCountIs('AWS::ApiGatewayV2::Integration', 1);
    template.hasResourceProperties('AWS::ApiGatewayV2::Integration', {
      IntegrationType: 'AWS_PROXY',
      PayloadFormatVersion: '2.0',
      IntegrationUri: { 'Fn::GetAtt': [id(primary.api.handler.function), 'Arn'] },
    });
  });

  it('has the SQS stack\'s security defaults: CORS (with PATCH and DELETE), stage throttling, JSON access logs with retention', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', {
      ProtocolType: 'HTTP',
      CorsConfiguration: Match.objectLike({ AllowOrigins: ['*'], AllowMethods: Match.arrayWith(['GET', 'POST', 'PATCH', 'DELETE']), ExposeHeaders: Match.arrayWith(['etag']) }),
    });
    const stage = props(id(primary.api.stage));
    expect(stage).toMatchObject({
      StageName: '$default',
      DefaultRouteSettings: { ThrottlingRateLimit: 100, ThrottlingBurstLimit: 200 },
      AccessLogSettings: { DestinationArn: { 'Fn::GetAtt': [id(primary.api.accessLogGroup), 'Arn'] } },
    });
    expect(JSON.parse((stage['AccessLogSettings'] as { Format: string }).Format)).toMatchObject({ requestId: '$context.requestId', status: '$context.status' });
    expect(props(id(primary.api.accessLogGroup))).toMatchObject({ RetentionInDays: 14 });
  });

  it('signs every route but health and the API description with authorizer=iam', { timeout: 60_000 }, () => {
    const { primaryTemplate: t } = synthTasksTemplates({ authorizer: 'iam' });
    const publicKeys = new Set(TASK_ROUTES.filter((r) => r.access === 'public').map((r) => `${r.method} ${r.path}`));
    for (const [, route] of resourcesOfType(t, 'AWS::ApiGatewayV2::Route')) {
      const key = route.Properties?.['RouteKey'] as string;
      expect(route.Properties?.['AuthorizationType'], key).toBe(publicKeys.has(key) ? 'NONE' : 'AWS_IAM');
    }
  });
});

describe('least privilege', () => {
  const grantsOf = (roleId: string, t: Template = template): Record<string, string[]> => {
    const names = new Map<string, string>([
      [id(primary.cluster.cluster), 'cluster'],
      [id(primary.events.bus), 'bus'],
      [id(primary.events.processorDeadLetterQueue), 'processorDlq'],
      [id(primary.api.handler.logGroup), 'handlerLogs'],
      [id(primary.api.migrator.logGroup), 'migratorLogs'],
    ]);
    const grants: Record<string, Set<string>> = {};
    for (const [, policy] of resourcesOfType(t, 'AWS::IAM::Policy')) {
      if (JSON.stringify(policy.Properties?.['Roles']) !== JSON.stringify([{ Ref: roleId }])) continue;
      for (const statement of (policy.Properties?.['PolicyDocument'] as { Statement: Array<{ Effect: string; Action: string | string[]; Resource: unknown }> }).Statement) {
        expect(statement.Effect).toBe('Allow');
        for (const action of asList(statement.Action)) {
          for (const target of asList(statement.Resource as string | string[])) (grants[action] ??= new Set()).add(names.get(resourceName(target)) ?? resourceName(target));
        }
      }
    }
    return Object.fromEntries(Object.entries(grants).map(([action, set]) => [action, [...set].sort()]));
  };
  const xray = { 'xray:PutTelemetryRecords': ['*'], 'xray:PutTraceSegments': ['*'] };

  it('gives the API function dsql:DbConnect on its cluster (never admin), events:PutEvents on the bus, its DLQ, its logs', () => {
    expect(grantsOf(id(primary.api.handler.role))).toEqual({
      'logs:CreateLogStream': ['handlerLogs'],
      'logs:PutLogEvents': ['handlerLogs'],
      ...xray,
      'dsql:DbConnect': ['cluster'],
      'events:PutEvents': ['bus'],
      'sqs:SendMessage': ['processorDlq'],
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: Match.arrayWith([{ Effect: 'Allow', Action: 'dsql:DbConnect', Resource: { 'Fn::GetAtt': [id(primary.cluster.cluster), 'ResourceArn'] } }]) },
    });
  });

  it('gives dsql:DbConnectAdmin to the migrate function alone, on its cluster alone', () => {
    expect(grantsOf(id(primary.api.migrator.role))).toEqual({
      'logs:CreateLogStream': ['migratorLogs'],
      'logs:PutLogEvents': ['migratorLogs'],
      ...xray,
      'dsql:DbConnectAdmin': ['cluster'],
    });
    const admins = allPolicyStatements(template).filter((s) => asList(s.statement.Action).some((a) => a.startsWith('dsql:')));
    expect(admins.map((s) => asList(s.statement.Action)).flat().sort()).toEqual(['dsql:DbConnect', 'dsql:DbConnectAdmin']);
  });

  it('grants no wildcard action in any Allow statement of either region; wildcard Deny only as a TLS guard; no managed policies', () => {
    for (const t of [template, secondaryTemplate]) {
      const statements = allPolicyStatements(t);
      expect(statements.length).toBeGreaterThan(10);
      const offenders: string[] = [];
      for (const { logicalId, path, statement } of statements) {
        if (statement.NotAction !== undefined) offenders.push(`${logicalId} ${path}: NotAction`);
        for (const action of asList(statement.Action)) {
          if (!action.includes('*')) continue;
          const tlsGuard = statement.Effect === 'Deny' && JSON.stringify(statement.Condition) === '{"Bool":{"aws:SecureTransport":"false"}}';
          if (!tlsGuard) offenders.push(`${logicalId} ${path}: ${statement.Effect} ${action}`);
        }
      }
      expect(offenders).toEqual([]);
      for (const [logicalId, role] of resourcesOfType(t, 'AWS::IAM::Role')) expect(role.Properties?.['ManagedPolicyArns'], logicalId).toBeUndefined();
    }
  });
});

describe('alerts and monitoring', () => {
  const alarms = () => resourcesOfType(template, 'AWS::CloudWatch::Alarm').map(([, a]) => a.Properties ?? {});
  const alarmOn = (metricName: string, dimensions: unknown[]) =>
    alarms().filter((a) => a['MetricName'] === metricName && JSON.stringify(a['Dimensions']) === JSON.stringify(dimensions));

  it('encrypts the alerts topic with a rotating customer-managed key and refuses non-TLS publishing', () => {
    const topicId = id(primary.alerts.topic);
    expect(props(topicId)).toMatchObject({ TopicName: 'spool-dev-tasks-alerts', KmsMasterKeyId: { 'Fn::GetAtt': [id(primary.alerts.node.findChild('Key')), 'Arn'] } });
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [{ Ref: topicId }],
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
  });

  it('notifies the alerts topic from every alarm, on alarm and on recovery', () => {
    const topic = { Ref: id(primary.alerts.topic) };
    expect(alarms()).toHaveLength(7);
    for (const alarm of alarms()) {
      expect(alarm['AlarmActions']).toEqual([topic]);
      expect(alarm['OKActions']).toEqual([topic]);
    }
  });

  it('alarms on function errors and throttles, on any message in either DLQ, on failed rule invocations, on API 5xx', () => {
    const fn = [{ Name: 'FunctionName', Value: { Ref: id(primary.api.handler.function) } }];
    expect(alarmOn('Errors', fn)).toHaveLength(1);
    expect(alarmOn('Throttles', fn)).toHaveLength(1);
    for (const queue of [primary.events.targetDeadLetterQueue, primary.events.processorDeadLetterQueue]) {
      const dlq = alarmOn('ApproximateNumberOfMessagesVisible', [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [id(queue), 'QueueName'] } }]);
      expect(dlq).toHaveLength(1);
      expect(dlq[0]).toMatchObject({ Threshold: 0, ComparisonOperator: 'GreaterThanThreshold' });
    }
    const rule = [
      { Name: 'EventBusName', Value: { Ref: id(primary.events.bus) } },
      { Name: 'RuleName', Value: { Ref: id(primary.events.rule) } },
    ];
    for (const metric of ['FailedInvocations', 'InvocationsFailedToBeSentToDlq']) {
      expect(alarmOn(metric, rule), metric).toHaveLength(1);
      expect(alarmOn(metric, rule)[0]).toMatchObject({ Namespace: 'AWS/Events', Threshold: 1 });
    }
    expect(alarmOn('5xx', [{ Name: 'ApiId', Value: { Ref: id(primary.api.httpApi) } }])).toHaveLength(1);
  });

  it('builds one dashboard per region (dashboards are global to the account)', () => {
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    expect(props(id(primary.monitoring.dashboard))).toMatchObject({ DashboardName: 'spool-dev-tasks-us-east-1' });
    expect(props(id(secondary.monitoring.dashboard), secondaryTemplate)).toMatchObject({ DashboardName: 'spool-dev-tasks-us-east-2' });
    const body = JSON.stringify(props(id(primary.monitoring.dashboard))['DashboardBody']);
    for (const metric of ['Invocations', 'Errors', 'Duration', 'FailedInvocations', 'MatchedEvents', 'ApproximateNumberOfMessagesVisible', 'Count', 'Latency']) {
      expect(body, metric).toContain(`\\"${metric}\\"`);
    }
  });
});

describe('outputs', () => {
  it('give what the peering, the migration and the clients need', () => {
    const outputs = templateJson(template).Outputs ?? {};
    for (const name of ['ApiUrl', 'ClusterIdentifier', 'ClusterArn', 'ClusterEndpoint', 'EventBusName', 'TaskProcessorFunctionName', 'MigrateFunctionName', 'TaskEventsDlqUrl', 'TaskProcessorDlqUrl', 'AlertsTopicArn', 'DashboardName']) {
      expect(outputs[name], name).toBeDefined();
    }
    expect(outputs['ClusterIdentifier']?.Value).toEqual({ 'Fn::GetAtt': [id(primary.cluster.cluster), 'Identifier'] });
    expect(resources[id(primary.cluster.cluster)]?.Type).toBe('AWS::DSQL::Cluster');
  });
});
