import { Duration } from 'aws-cdk-lib';
import type * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import type { QueuePair } from './queues.js';

/** A function to watch, with a short label for alarm names and graphs. */
export interface MonitoredFunction {
  readonly label: string;
  readonly function: lambda.IFunction;
}

/** Properties of {@link SpoolMonitoring}. */
export interface SpoolMonitoringProps {
  readonly namePrefix: string;
  readonly queues: readonly QueuePair[];
  readonly functions: readonly MonitoredFunction[];
  readonly httpApi: apigw.IHttpApi;
  /** Every alarm notifies this topic when it fires and when it recovers. */
  readonly alertsTopic: sns.ITopic;
  /** Threshold of the oldest-message-age alarm on each main queue, seconds. */
  readonly queueAgeAlarmSeconds: number;
}

const ONE_MINUTE = Duration.minutes(1);
const FIVE_MINUTES = Duration.minutes(5);

/**
 * The alarms of every recipe (dead letters, stuck queues, function errors and throttles,
 * API 5xx), all wired to the alerts topic, and one dashboard with the key metrics.
 */
export class SpoolMonitoring extends Construct {
  readonly alarms: cloudwatch.Alarm[] = [];
  readonly dashboard: cloudwatch.Dashboard;
  private readonly action: SnsAction;
  private readonly namePrefix: string;

  constructor(scope: Construct, id: string, props: SpoolMonitoringProps) {
    super(scope, id);
    this.action = new SnsAction(props.alertsTopic);
    this.namePrefix = props.namePrefix;

    for (const pair of props.queues) {
      // Any dead letter needs a human: the message failed maxReceiveCount times.
      this.alarm(`${pair.name}-dlq-not-empty`, {
        metric: pair.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: ONE_MINUTE, statistic: 'Maximum' }),
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        alarmDescription: `Messages in the ${pair.name} dead-letter queue: inspect with GET /admin/queues/${pair.name}/dlq, fix, then POST /admin/queues/${pair.name}/redrive.`,
      });
      // Old messages mean the consumer is failing, throttled or cannot keep up.
      this.alarm(`${pair.name}-queue-oldest-message-age`, {
        metric: pair.queue.metricApproximateAgeOfOldestMessage({ period: ONE_MINUTE, statistic: 'Maximum' }),
        threshold: props.queueAgeAlarmSeconds,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 5,
        datapointsToAlarm: 3,
        alarmDescription: `The oldest message in the ${pair.name} queue has waited ${props.queueAgeAlarmSeconds} s or more.`,
      });
    }

    for (const { label, function: fn } of props.functions) {
      this.alarm(`${label}-errors`, {
        metric: fn.metricErrors({ period: FIVE_MINUTES, statistic: 'Sum' }),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        alarmDescription: `The ${label} function failed (threw or timed out) in the last 5 minutes.`,
      });
      this.alarm(`${label}-throttles`, {
        metric: fn.metricThrottles({ period: FIVE_MINUTES, statistic: 'Sum' }),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        alarmDescription: `The ${label} function was throttled in the last 5 minutes (account or reserved concurrency limit).`,
      });
    }

    this.alarm('api-5xx', {
      metric: props.httpApi.metricServerError({ period: FIVE_MINUTES, statistic: 'Sum' }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      alarmDescription: 'The API answered 5xx in the last 5 minutes.',
    });

    this.dashboard = this.buildDashboard(props);
  }

  private alarm(name: string, props: Omit<cloudwatch.AlarmProps, 'alarmName' | 'treatMissingData'>): void {
    const alarm = new cloudwatch.Alarm(this, name, {
      ...props,
      alarmName: `${this.namePrefix}-${name}`,
      // No data means no traffic (queues and functions idle), which is healthy.
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    alarm.addAlarmAction(this.action);
    alarm.addOkAction(this.action);
    this.alarms.push(alarm);
  }

  private buildDashboard(props: SpoolMonitoringProps): cloudwatch.Dashboard {
    const graph = (title: string, left: cloudwatch.IMetric[], width = 8): cloudwatch.GraphWidget =>
      new cloudwatch.GraphWidget({ title, left, width, height: 6 });
    const perQueue = (metricOf: (pair: QueuePair) => cloudwatch.Metric): cloudwatch.Metric[] =>
      props.queues.map((pair) => metricOf(pair).with({ label: pair.name }));
    const perFunction = (metricOf: (fn: lambda.IFunction) => cloudwatch.Metric): cloudwatch.Metric[] =>
      props.functions.map(({ label, function: fn }) => metricOf(fn).with({ label }));

    const dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: `${props.namePrefix}-dashboard`,
      defaultInterval: Duration.hours(3),
    });
    dashboard.addWidgets(
      new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms, width: 24, height: 4 }),
    );
    dashboard.addWidgets(
      graph('Queue depth (visible)', perQueue((p) => p.queue.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum' }))),
      graph('Oldest message age (s)', perQueue((p) => p.queue.metricApproximateAgeOfOldestMessage({ statistic: 'Maximum' }))),
      graph('Dead letters (visible)', perQueue((p) => p.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum' }))),
    );
    dashboard.addWidgets(
      graph('Function invocations', perFunction((fn) => fn.metricInvocations({ statistic: 'Sum' }))),
      graph('Function errors', perFunction((fn) => fn.metricErrors({ statistic: 'Sum' }))),
      graph('Function duration p99 (ms)', perFunction((fn) => fn.metricDuration({ statistic: 'p99' }))),
    );
    dashboard.addWidgets(
      graph('API requests', [props.httpApi.metricCount({ statistic: 'Sum', label: 'requests' })]),
      graph('API latency (ms)', [
        props.httpApi.metricLatency({ statistic: 'p50', label: 'p50' }),
        props.httpApi.metricLatency({ statistic: 'p99', label: 'p99' }),
      ]),
      graph('API errors', [
        props.httpApi.metricServerError({ statistic: 'Sum', label: '5xx' }),
        props.httpApi.metricClientError({ statistic: 'Sum', label: '4xx' }),
      ]),
    );
    return dashboard;
  }
}
