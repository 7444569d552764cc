import { Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import { Construct } from 'constructs';
import type { SpoolNotifications } from './notifications.js';
import { allowDeadLetterPeek, allowQueueSend, allowTablePutUpdate, allowTopicPublish } from './permissions.js';
import type { SpoolQueues } from './queues.js';
import { type FunctionSettings, SpoolFunction } from './spool-function.js';
import type { SpoolStorage } from './storage.js';

/**
 * When the reconciler runs. Every 5 minutes: a message dead-lettered without a recorded failure
 * gets its alert and its job's `failed` status within 5 minutes (the local runtime's default
 * SPOOL_RECONCILE_INTERVAL_MS is 30 s; on AWS each run costs an invocation and, per DLQ, a 1 s
 * long poll). The DLQ-not-empty alarms fire independently of it.
 */
export const RECONCILE_SCHEDULE = {
  expression: 'rate(5 minutes)',
  /**
   * Retries of delivering one tick to Lambda (throttled invoke API and the like). A tick older
   * than the interval is superseded by the next one, so it is not kept longer.
   */
  retryAttempts: 2,
  maxEventAge: Duration.minutes(5),
} as const;

// Function and schedule names: `<prefix>-dlq-reconciler` (short enough for every prefix the settings accept).
const NAME_SUFFIX = 'dlq-reconciler';
// Lambda function names and EventBridge Scheduler schedule names are limited to 64 characters.
const MAX_NAME_LENGTH = 64;

/** Properties of {@link SpoolDeadLetterReconciler}. */
export interface SpoolDeadLetterReconcilerProps {
  readonly namePrefix: string;
  readonly queues: SpoolQueues;
  readonly storage: SpoolStorage;
  readonly notifications: SpoolNotifications;
  readonly functionSettings: FunctionSettings;
}

/**
 * The scheduled dead-letter reconciler (src/runtime/lambda/dead-letter-reconciler.ts): an
 * EventBridge Scheduler schedule invokes the function every 5 minutes. The function gets only
 * what `reconcileDeadLetters` over the three queues touches:
 * - `sqs:ReceiveMessage` on the three DLQs (`peekDeadLetters`: visibility timeout 0, nothing
 *   deleted), nothing on the main queues but sending callbacks;
 * - `dynamodb:PutItem` (the alert ledger's conditional claim) and `dynamodb:UpdateItem` (the job
 *   becomes `failed`) on the jobs table;
 * - `sqs:SendMessage` on the callbacks queue (a failed job with a callbackUrl enqueues its callback);
 * - publishing to the encrypted alerts topic.
 *
 * EventBridge Scheduler rather than an events.Rule: the schedule invokes through a role of its
 * own (`lambda:InvokeFunction` on this one function, assumable only by this account's
 * schedules), so the function has no resource policy, and cdk-nag's Serverless pack asks no
 * target DLQ of it (its EventBusDLQ rule covers events.Rule targets).
 */
export class SpoolDeadLetterReconciler extends Construct {
  readonly reconciler: SpoolFunction;
  readonly schedule: scheduler.CfnSchedule;
  /** The role the schedule invokes the function with. */
  readonly scheduleRole: iam.Role;

  constructor(scope: Construct, id: string, props: SpoolDeadLetterReconcilerProps) {
    super(scope, id);
    const { queues, storage, notifications } = props;
    const name = `${props.namePrefix}-${NAME_SUFFIX}`;
    if (name.length > MAX_NAME_LENGTH) {
      throw new Error(`the reconciler's function and schedule name ${name} is longer than ${MAX_NAME_LENGTH} characters: shorten projectName or environment`);
    }

    this.reconciler = new SpoolFunction(this, 'Reconciler', {
      ...props.functionSettings,
      functionName: name,
      entry: 'src/runtime/lambda/dead-letter-reconciler.ts',
      description: 'Alerts on and settles messages dead-lettered without a recorded failure (scheduled)',
      synchronousOnlyReason:
        'Invoked asynchronously by its EventBridge Scheduler schedule with an empty event: a failed run leaves no event worth keeping, since the next run 5 minutes later redoes its work (the DLQs hold the state, the alert ledger makes re-runs idempotent), and its errors are alarmed.',
    });
    const role = this.reconciler.role;
    for (const pair of queues.all) allowDeadLetterPeek(role, pair.deadLetterQueue);
    allowTablePutUpdate(role, storage.jobsTable);
    allowQueueSend(role, queues.callbacks.queue, { stats: false });
    allowTopicPublish(role, notifications.alertsTopic, notifications.alertsKey);

    const stack = Stack.of(this);
    // Scheduler presents the schedule's group as the source: the `default` group of this account.
    const scheduleGroupArn = stack.formatArn({ service: 'scheduler', resource: 'schedule-group', resourceName: 'default' });
    this.scheduleRole = new iam.Role(this, 'ScheduleRole', {
      // Only schedules of this account's default group may assume it (confused-deputy protection).
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account, 'aws:SourceArn': scheduleGroupArn } },
      }),
      description: `Invokes ${name} on its schedule`,
    });
    // The unqualified function only (grantInvoke would add `<arn>:*`, every version and alias).
    this.scheduleRole.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [this.reconciler.function.functionArn] }),
    );

    this.schedule = new scheduler.CfnSchedule(this, 'Schedule', {
      name,
      description: 'Runs the dead-letter reconciler',
      scheduleExpression: RECONCILE_SCHEDULE.expression,
      flexibleTimeWindow: { mode: 'OFF' },
      state: 'ENABLED',
      target: {
        arn: this.reconciler.function.functionArn,
        roleArn: this.scheduleRole.roleArn,
        retryPolicy: {
          maximumRetryAttempts: RECONCILE_SCHEDULE.retryAttempts,
          maximumEventAgeInSeconds: RECONCILE_SCHEDULE.maxEventAge.toSeconds(),
        },
      },
    });
    // The first tick must find the role's policy in place, not only the role.
    this.schedule.node.addDependency(this.scheduleRole);
  }
}
