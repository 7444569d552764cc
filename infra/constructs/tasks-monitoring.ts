import { Duration } from 'aws-cdk-lib';
import type * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import type { TaskEvents } from './task-events.js';

/** Properties of {@link TasksMonitoring}. */
export interface TasksMonitoringProps {
  readonly namePrefix: string;
  /** Dashboards are global to the account: the region goes into the name. */
  readonly region: string;
  /** The task API function (HTTP API and task processor). */
  readonly function: lambda.IFunction;
  readonly events: TaskEvents;
  readonly httpApi: apigw.IHttpApi;
  /** Every alarm notifies this topic when it fires and when it recovers. */
  readonly alertsTopic: sns.ITopic;
}

const FIVE_MINUTES = Duration.minutes(5);
const ONE_MINUTE = Duration.minutes(1);

/**
 * Alarms of one region of the users and tasks stacks, all to the alerts topic: function errors
 * and throttles, a message in either task-events DLQ, failed invocations of rule
 * `task-processing-rule` (and events it could not even dead-letter), API 5xx; and a dashboard.
 */
export class TasksMonitoring extends Construct {
  readonly alarms: cloudwatch.Alarm[] = [];
  readonly dashboard: cloudwatch.Dashboard;
  private readonly action: SnsAction;
  private readonly namePrefix: string;

  constructor(scope: Construct, id: string, props: TasksMonitoringProps) {
    super(scope, id);
    this.action = new SnsAction(props.alertsTopic);
    this.namePrefix = props.namePrefix;
    const { events, function: fn } = props;
    const ruleMetric = (metricName: string, statistic = 'Sum') =>
      new cloudwatch.Metric({
        namespace: 'AWS/Events',
        metricName,
        // A rule on a custom bus reports under both dimensions.
        dimensionsMap: { EventBusName: events.bus.eventBusName, RuleName: events.rule.ruleName },
        statistic,
        period: FIVE_MINUTES,
      });

    this.alarm('task-processor-errors', {
      metric: fn.metricErrors({ period: FIVE_MINUTES, statistic: 'Sum' }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      alarmDescription: 'The task API function failed (threw or timed out) in the last 5 minutes: a 5xx, or a task event that will be retried.',
    });
    this.alarm('task-processor-throttles', {
      metric: fn.metricThrottles({ period: FIVE_MINUTES, statistic: 'Sum' }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      alarmDescription: 'The task API function was throttled in the last 5 minutes (account or reserved concurrency limit).',
    });
    for (const [name, queue, which, holds] of [
      ['task-events-dlq-not-empty', events.targetDeadLetterQueue, 'the rule target', 'events EventBridge could not deliver to the task processor'],
      ['task-processor-dlq-not-empty', events.processorDeadLetterQueue, 'the task processor', 'task events the task processor failed on after its retries'],
    ] as const) {
      this.alarm(name, {
        metric: queue.metricApproximateNumberOfMessagesVisible({ period: ONE_MINUTE, statistic: 'Maximum' }),
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        alarmDescription: `Messages in ${which} dead-letter queue: ${holds}. Inspect them, fix the cause, then put them on the bus again.`,
      });
    }
    this.alarm('task-processing-rule-failed-invocations', {
      metric: ruleMetric('FailedInvocations'),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      alarmDescription: 'Rule task-processing-rule failed to invoke the task processor permanently (after its retries) in the last 5 minutes.',
    });
    this.alarm('task-processing-rule-dlq-failures', {
      metric: ruleMetric('InvocationsFailedToBeSentToDlq'),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      alarmDescription: 'Rule task-processing-rule could not put failed events into its dead-letter queue: those events are lost.',
    });
    this.alarm('tasks-api-5xx', {
      metric: props.httpApi.metricServerError({ period: FIVE_MINUTES, statistic: 'Sum' }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      alarmDescription: 'The users and tasks API answered 5xx in the last 5 minutes.',
    });

    const graph = (title: string, left: cloudwatch.IMetric[]) => new cloudwatch.GraphWidget({ title, left, width: 8, height: 6 });
    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: `${props.namePrefix}-tasks-${props.region}`,
      defaultInterval: Duration.hours(3),
    });
    this.dashboard.addWidgets(new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms, width: 24, height: 4 }));
    this.dashboard.addWidgets(
      graph('Function invocations and errors', [fn.metricInvocations({ statistic: 'Sum' }), fn.metricErrors({ statistic: 'Sum' }), fn.metricThrottles({ statistic: 'Sum' })]),
      graph('Function duration (ms)', [fn.metricDuration({ statistic: 'p50', label: 'p50' }), fn.metricDuration({ statistic: 'p99', label: 'p99' })]),
      graph('Task events (rule task-processing-rule)', [
        ruleMetric('MatchedEvents').with({ label: 'matched' }),
        ruleMetric('Invocations').with({ label: 'invocations' }),
        ruleMetric('FailedInvocations').with({ label: 'failed' }),
      ]),
    );
    this.dashboard.addWidgets(
      graph('Dead letters (visible)', [
        events.targetDeadLetterQueue.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', label: 'rule target DLQ' }),
        events.processorDeadLetterQueue.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', label: 'processor DLQ' }),
      ]),
      graph('API requests and errors', [
        props.httpApi.metricCount({ statistic: 'Sum', label: 'requests' }),
        props.httpApi.metricServerError({ statistic: 'Sum', label: '5xx' }),
        props.httpApi.metricClientError({ statistic: 'Sum', label: '4xx' }),
      ]),
      graph('API latency (ms)', [props.httpApi.metricLatency({ statistic: 'p50', label: 'p50' }), props.httpApi.metricLatency({ statistic: 'p99', label: 'p99' })]),
    );
  }

  private alarm(name: string, props: Omit<cloudwatch.AlarmProps, 'alarmName' | 'treatMissingData'>): void {
    const alarm = new cloudwatch.Alarm(this, name, {
      ...props,
      alarmName: `${this.namePrefix}-${name}`,
      // No data means no traffic (EventBridge publishes FailedInvocations only when non-zero), which is healthy.
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    alarm.addAlarmAction(this.action);
    alarm.addOkAction(this.action);
    this.alarms.push(alarm);
  }
}
