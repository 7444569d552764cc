import { Annotations, CfnOutput, Duration, RemovalPolicy, Stack, type StackProps, Tags } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { AlertsTopic } from './constructs/alerts-topic.js';
import { DsqlPeeredCluster } from './constructs/dsql-cluster.js';
import type { FunctionSettings } from './constructs/spool-function.js';
import { TaskEvents } from './constructs/task-events.js';
import { TasksApi } from './constructs/tasks-api.js';
import { TasksMonitoring } from './constructs/tasks-monitoring.js';
import { resolveTasksSettings, type TasksSettings, type TasksSettingsInput } from './settings.js';

/** Properties of {@link TasksRegionStack}: `env.region` must be the primary or the secondary region. */
export interface TasksRegionStackProps extends StackProps {
  readonly settings: TasksSettings;
}

/**
 * The users and tasks system in one region, on Aurora DSQL (recipes "distributed serverless
 * application" and "collaborative task management"): this region's cluster of the peered pair,
 * the HTTP API and task API function, the migrate function, the task events bus
 * `task-events-<env>` with rule `task-processing-rule` (retries, DLQ), an encrypted alerts
 * topic, alarms and a dashboard. One such stack per region (primary, secondary); see
 * {@link createTasksStacks} and, for the two-deployment peering of the clusters,
 * infra/constructs/dsql-cluster.ts.
 */
export class TasksRegionStack extends Stack {
  readonly settings: TasksSettings;
  readonly cluster: DsqlPeeredCluster;
  readonly events: TaskEvents;
  readonly alerts: AlertsTopic;
  readonly api: TasksApi;
  readonly monitoring: TasksMonitoring;

  constructor(scope: Construct, id: string, props: TasksRegionStackProps) {
    super(scope, id, props);
    const { settings } = props;
    this.settings = settings;
    const region = props.env?.region;
    if (region === undefined || !settings.regions.includes(region)) {
      throw new Error(`a TasksRegionStack's env.region must be ${settings.regions.join(' or ')}, got ${String(region)}`);
    }
    const { namePrefix } = settings;
    const removalPolicy = settings.dataRemovalPolicy === 'destroy' ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN;
    // Dashboards are left untagged, as in SpoolStack (cfn-lint on this machine rejects their Tags).
    const tagOptions = { excludeResourceTypes: ['AWS::CloudWatch::Dashboard'] };
    Tags.of(this).add('project', settings.projectName, tagOptions);
    Tags.of(this).add('environment', settings.environment, tagOptions);

    const ids = settings.peerClusterIds;
    this.cluster = new DsqlPeeredCluster(this, 'Dsql', {
      witnessRegion: settings.witnessRegion,
      peers:
        ids === undefined
          ? undefined
          : [
              { region: settings.primaryRegion, identifier: ids.primary },
              { region: settings.secondaryRegion, identifier: ids.secondary },
            ],
      deletionProtection: settings.clusterDeletionProtection,
      name: `${settings.clusterNamePrefix}-${region}`,
      removalPolicy,
    });
    if (!this.cluster.peered) {
      Annotations.of(this).addWarningV2(
        'spool:dsql-not-peered',
        `The DSQL cluster in ${region} is created unpeered (PENDING_SETUP) and the API cannot use it yet. After this first deployment, deploy again with ` +
          '-c primaryClusterId=<id> -c secondaryClusterId=<id> (the ClusterIdentifier outputs of both regional stacks), then invoke the migrate function.',
      );
    }

    this.events = new TaskEvents(this, 'Events', { environment: settings.environment, namePrefix, removalPolicy });
    this.alerts = new AlertsTopic(this, 'Alerts', { namePrefix: `${namePrefix}-tasks`, alertEmail: settings.alertEmail, removalPolicy });

    const functionSettings: FunctionSettings = {
      memorySize: settings.lambdaMemorySize,
      timeout: Duration.seconds(settings.lambdaTimeout),
      logRetentionDays: settings.logRetentionDays,
      removalPolicy,
      environment: { SPOOL_ENVIRONMENT: settings.environment },
    };
    this.api = new TasksApi(this, 'Api', {
      namePrefix,
      environment: settings.environment,
      cluster: this.cluster,
      events: this.events,
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
    this.monitoring = new TasksMonitoring(this, 'Monitoring', {
      namePrefix,
      region,
      function: this.api.handler.function,
      events: this.events,
      httpApi: this.api.httpApi,
      alertsTopic: this.alerts.topic,
    });

    const outputs: Record<string, [value: string, description: string]> = {
      ApiUrl: [this.api.url, 'Base URL of the users and tasks HTTP API'],
      ClusterIdentifier: [this.cluster.identifier, 'DSQL cluster identifier: give it as primaryClusterId / secondaryClusterId to peer the clusters'],
      ClusterArn: [this.cluster.clusterArn, 'DSQL cluster ARN'],
      ClusterEndpoint: [this.cluster.endpoint, 'DSQL endpoint (SPOOL_DSQL_ENDPOINT)'],
      EventBusName: [this.events.bus.eventBusName, 'Task events bus (SPOOL_EVENT_BUS_NAME)'],
      TaskProcessorFunctionName: [this.api.handler.function.functionName, 'The task API function (HTTP API, rule target, direct invocation)'],
      MigrateFunctionName: [this.api.migrator.function.functionName, 'Invoke with {"action":"migrate"} after each deployment that changes the schema, once the clusters are peered'],
      TaskEventsDlqUrl: [this.events.targetDeadLetterQueue.queueUrl, 'Events EventBridge could not deliver to the task processor'],
      TaskProcessorDlqUrl: [this.events.processorDeadLetterQueue.queueUrl, 'Task events the task processor failed on'],
      AlertsTopicArn: [this.alerts.topic.topicArn, 'Alarm notifications'],
      DashboardName: [this.monitoring.dashboard.dashboardName, 'CloudWatch dashboard'],
    };
    for (const [outputId, [value, description]] of Object.entries(outputs)) new CfnOutput(this, outputId, { value, description });
  }
}

/**
 * The stacks of the users and tasks system: one {@link TasksRegionStack} in the primary region,
 * one in the secondary, named `<project>-<env>-tasks-<region>`. The witness region needs no
 * stack (DSQL keeps its transaction log there by itself).
 *
 * @example
 * createTasksStacks(app, { environment: 'dev', primaryRegion: 'us-east-1', secondaryRegion: 'us-east-2' });
 */
export function createTasksStacks(scope: Construct, input: TasksSettingsInput = {}, options: { account?: string } = {}): TasksRegionStack[] {
  const settings = resolveTasksSettings(input);
  return settings.regions.map(
    (region) =>
      new TasksRegionStack(scope, `${settings.namePrefix}-tasks-${region}`, {
        settings,
        description: `Spool users and tasks on Aurora DSQL, ${region} (${settings.environment})`,
        env: { account: options.account, region },
      }),
  );
}
