import { Duration, type RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { TASK_PROCESSING_PATTERN } from '../../src/domain/tasks/task-events.js';

/**
 * The rule and target names of the local runtime (`TASK_PROCESSING_RULE`, `TASK_PROCESSOR` in
 * src/runtime/local/server.ts), copied rather than imported: that module starts servers.
 */
export const TASK_PROCESSING_RULE = 'task-processing-rule';
export const TASK_PROCESSOR_TARGET_ID = 'task-processor';

/**
 * Retries of the rule's target. EventBridge invokes Lambda asynchronously, so these cover only
 * delivering the event to Lambda (throttling of the invoke API, a missing permission); events
 * EventBridge gives up on go to the target's DLQ. What the function then fails on is retried by
 * Lambda (twice) and lands in the function's own DLQ.
 */
export const TASK_TARGET_RETRY = { retryAttempts: 10, maxEventAge: Duration.hours(2) } as const;

// The SQS maximum, as on every queue of the project: a dead letter waits for a human.
const RETENTION = Duration.days(14);

/** Properties of {@link TaskEvents}. */
export interface TaskEventsProps {
  /** The bus is `task-events-<environment>`, as the recipe names it. */
  readonly environment: string;
  /** Prefix of the queue names. */
  readonly namePrefix: string;
  readonly removalPolicy: RemovalPolicy;
}

/**
 * The task events of the collaborative task-management recipe: the custom bus
 * `task-events-<env>`, rule `task-processing-rule` (every task event kind from
 * `task.management`, the pattern the local runtime uses), and the two dead-letter queues of
 * its delivery path, both encrypted (SSE-SQS), TLS-only and kept 14 days:
 * - `targetDeadLetterQueue`: events EventBridge could not deliver to the function; its policy
 *   lets only events.amazonaws.com send, and only for this rule (`aws:SourceArn`);
 * - `processorDeadLetterQueue`: events the function failed on after Lambda's retries
 *   (the function's `DeadLetterConfig`; the function's role sends to it).
 */
export class TaskEvents extends Construct {
  readonly bus: events.EventBus;
  readonly rule: events.Rule;
  readonly targetDeadLetterQueue: sqs.Queue;
  readonly processorDeadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: TaskEventsProps) {
    super(scope, id);
    this.bus = new events.EventBus(this, 'Bus', {
      eventBusName: `task-events-${props.environment}`,
      description: 'Task events (source task.management) of the collaborative task-management API',
    });

    this.targetDeadLetterQueue = this.deadLetterQueue('TargetDlq', `${props.namePrefix}-task-events-dlq`, props, 'events EventBridge could not deliver to the task processor', true);
    this.processorDeadLetterQueue = this.deadLetterQueue('ProcessorDlq', `${props.namePrefix}-task-processor-dlq`, props, 'task events the task processor failed on after Lambda\'s retries', false);

    const pattern = JSON.parse(TASK_PROCESSING_PATTERN) as { source: string[]; 'detail-type': string[] };
    this.rule = new events.Rule(this, 'ProcessingRule', {
      eventBus: this.bus,
      ruleName: TASK_PROCESSING_RULE,
      description: 'Task events to the task processor',
      eventPattern: { source: pattern.source, detailType: pattern['detail-type'] },
    });
  }

  /** Makes `fn` the rule's target, with retries and the target DLQ (which then allows this rule to send). */
  routeTo(fn: lambda.IFunction): void {
    this.rule.addTarget(
      new targets.LambdaFunction(fn, {
        retryAttempts: TASK_TARGET_RETRY.retryAttempts,
        maxEventAge: TASK_TARGET_RETRY.maxEventAge,
        deadLetterQueue: this.targetDeadLetterQueue,
      }),
    );
    // CfnRule has no target-id property on the L2; name it as the local runtime does.
    const cfnRule = this.rule.node.defaultChild as events.CfnRule;
    cfnRule.addPropertyOverride('Targets.0.Id', TASK_PROCESSOR_TARGET_ID);
  }

  /** `ofEventBridgeTarget`: cdk-nag recognizes a queue as a DLQ from SQS redrive policies and Lambda DeadLetterConfig, not from rule targets. */
  private deadLetterQueue(id: string, queueName: string, props: TaskEventsProps, holds: string, ofEventBridgeTarget: boolean): sqs.Queue {
    const queue = new sqs.Queue(this, id, {
      queueName,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: RETENTION,
      removalPolicy: props.removalPolicy,
    });
    Validations.of(queue).acknowledge({
      id: 'Serverless-SQSRedrivePolicy',
      reason: `This queue is the dead-letter queue of ${holds}: nothing consumes it automatically, a DLQ of a DLQ would only move the messages, and its depth is alarmed.`,
    });
    if (ofEventBridgeTarget) {
      Validations.of(queue).acknowledge({
        id: 'AwsSolutions-SQS3',
        reason: `This queue is itself a dead-letter queue (of ${holds}), named by the rule target's DeadLetterConfig, which the rule does not look at (it knows SQS redrive policies and Lambda DLQs).`,
      });
    }
    return queue;
  }
}
