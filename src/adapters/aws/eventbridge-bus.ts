import { busNameOf, checkPutEventsRequest, checkRuleDefinition, checkTargets } from '../../domain/events/event-bus-requests.js';
import {
  DeleteRuleCommand,
  EventBridgeServiceException,
  ListRulesCommand,
  ListTargetsByRuleCommand,
  PutEventsCommand,
  PutRuleCommand,
  PutTargetsCommand,
  RemoveTargetsCommand,
  type EventBridgeClient,
  type PutEventsRequestEntry,
  type Rule,
  type Target,
} from '@aws-sdk/client-eventbridge';
import { NotFoundError, ValidationError } from '../../errors.js';
import {
  MAX_PUT_EVENTS_BYTES,
  MAX_TARGETS_PER_RULE,
  type EventBus,
  type EventTarget,
  type PutEventsEntry,
  type PutEventsErrorCode,
  type PutEventsResult,
  type PutEventsResultEntry,
  type RuleDefinition,
  type RuleDescription,
  type RuleRef,
} from '../../ports/event-bus.js';

/** Where a target delivers, without its id and retry settings: what an ARN stands for. */
export type TargetDestination = { readonly kind: 'handler'; readonly handler: string } | { readonly kind: 'queue'; readonly queue: string };

/** A rule with its bus spelled out. */
export interface QualifiedRuleRef {
  readonly name: string;
  readonly busName: string;
}

/** How to reach EventBridge and how targets map to ARNs. */
export interface EventBridgeBusOptions {
  readonly client: EventBridgeClient;
  /**
   * The ARN a target delivers to: a Lambda function ARN for a `handler` target, an SQS queue ARN
   * for a `queue` target. It may look the ARN up (hence the promise). The resource must already
   * let EventBridge deliver to it (a Lambda permission, a queue policy); the CDK app grants those.
   */
  readonly targetArn: (target: EventTarget, rule: QualifiedRuleRef) => string | Promise<string>;
  /**
   * The ARN of the target's dead-letter queue (an SQS queue ARN), if it has one; events that
   * exhaust the target's retries go there.
   */
  readonly deadLetterArn?: (target: EventTarget, rule: QualifiedRuleRef) => string | undefined | Promise<string | undefined>;
  /**
   * The inverse of {@link targetArn}, for `listRules`: what a target ARN stands for, or undefined
   * for a target that is neither a handler nor a queue (it is then left out of the listing).
   * Default {@link destinationOfArn}: the function name of a Lambda ARN, the queue name of an SQS ARN.
   */
  readonly targetOf?: (arn: string) => TargetDestination | undefined;
  /** PutEvents request size limit, checked before sending; default {@link MAX_PUT_EVENTS_BYTES}. */
  readonly maxRequestBytes?: number;
}

const LAMBDA_ARN = /^arn:aws[\w-]*:lambda:[^:]+:\d{12}:function:([^:]+)(?::[^:]+)?$/;
const SQS_ARN = /^arn:aws[\w-]*:sqs:[^:]+:\d{12}:([^:]+)$/;
const PER_ENTRY_CODES = new Set<string>(['InvalidArgument', 'MalformedDetail', 'InternalFailure']);

/**
 * The {@link EventBus} port on Amazon EventBridge. EventBridge routes and delivers by itself
 * (retries per the target's `RetryPolicy`, then its `DeadLetterConfig`); this adapter maps the
 * port's calls and checks on the client what the port promises and an emulator may not check:
 * the entry count and request size of PutEvents, and the event pattern of PutRule (with the
 * project's own validator, so a bad pattern is refused in EventBridge's words everywhere).
 * Throttling and transient failures are retried by the SDK client.
 *
 * `listRules` reports rules and their targets by name and id, through {@link EventBridgeBusOptions.targetOf}, so with the
 * default inverse a target round-trips when its handler or queue is named like its function or
 * queue (the ARN's last part). Schedule rules (no event pattern) are not listed.
 *
 * @example
 * const bus = new EventBridgeBus({
 *   client: createEventBridgeClient({ region: 'us-east-1' }),
 *   targetArn: (t) => (t.kind === 'queue' ? `arn:aws:sqs:us-east-1:123456789012:${t.queue}` : `arn:aws:lambda:us-east-1:123456789012:function:${t.handler}`),
 * });
 * await bus.putEvents([{ source: 'task.management', detailType: 'Task Created', detail: '{"id":"t1"}', eventBusName: 'task-events-dev' }]);
 */
export class EventBridgeBus implements EventBus {
  private readonly client: EventBridgeClient;
  private readonly maxRequestBytes: number;
  private readonly targetOf: (arn: string) => TargetDestination | undefined;

  constructor(private readonly options: EventBridgeBusOptions) {
    this.client = options.client;
    this.maxRequestBytes = options.maxRequestBytes ?? MAX_PUT_EVENTS_BYTES;
    this.targetOf = options.targetOf ?? destinationOfArn;
  }

  async putEvents(entries: readonly PutEventsEntry[]): Promise<PutEventsResult> {
    checkPutEventsRequest(entries, this.maxRequestBytes);
    const request = entries.map((entry): PutEventsRequestEntry => {
      if (entry.eventBusName !== undefined) busNameOf(entry.eventBusName);
      return {
        Source: entry.source,
        DetailType: entry.detailType,
        Detail: entry.detail,
        ...(entry.eventBusName === undefined ? {} : { EventBusName: entry.eventBusName }),
        ...(entry.time === undefined ? {} : { Time: entry.time }),
        ...(entry.resources === undefined ? {} : { Resources: [...entry.resources] }),
      };
    });
    const response = await this.call(() => this.client.send(new PutEventsCommand({ Entries: request })));
    const results = response.Entries ?? [];
    if (results.length !== entries.length) {
      throw new Error(`EventBridge PutEvents answered ${results.length} results for ${entries.length} entries`);
    }
    const mapped = results.map((r): PutEventsResultEntry => {
      if (r.ErrorCode === undefined && r.EventId !== undefined) return { eventId: r.EventId };
      const code = r.ErrorCode ?? 'InternalFailure';
      const message = r.ErrorMessage ?? 'EventBridge answered neither an event id nor an error.';
      // Codes the port does not name (throttling, access denied, ...) keep their name in the message.
      return PER_ENTRY_CODES.has(code)
        ? { errorCode: code as PutEventsErrorCode, errorMessage: message }
        : { errorCode: 'InternalFailure', errorMessage: `${code}: ${message}` };
    });
    return { failedEntryCount: mapped.filter((r) => 'errorCode' in r).length, entries: mapped };
  }

  async putRule(rule: RuleDefinition): Promise<void> {
    const { busName: bus, state } = checkRuleDefinition(rule);
    await this.call(() =>
      this.client.send(
        new PutRuleCommand({
          Name: rule.name,
          EventBusName: bus,
          EventPattern: rule.eventPattern,
          State: state,
          ...(rule.description === undefined ? {} : { Description: rule.description }),
        }),
      ),
    );
  }

  async putTargets(ref: RuleRef, targets: readonly EventTarget[]): Promise<void> {
    const { busName, ids } = checkTargets(ref, targets);
    const rule = { name: ref.name, busName };
    // Also answers NotFoundError for a missing rule, before any ARN is resolved.
    const kept = (await this.targetsOf(rule)).filter((t) => !ids.has(t.Id ?? ''));
    if (kept.length + targets.length > MAX_TARGETS_PER_RULE) {
      throw new ValidationError(`The requested resource exceeds the maximum number allowed: a rule has at most ${MAX_TARGETS_PER_RULE} targets.`);
    }
    const request = await Promise.all(targets.map((target) => this.toTarget(target, rule)));
    const response = await this.call(() => this.client.send(new PutTargetsCommand({ Rule: rule.name, EventBusName: rule.busName, Targets: request })));
    const failed = response.FailedEntries ?? [];
    if ((response.FailedEntryCount ?? failed.length) > 0) {
      const reasons = failed.map((f) => `${f.TargetId ?? '?'}: ${f.ErrorCode ?? 'Error'} ${f.ErrorMessage ?? ''}`.trim());
      throw new ValidationError(`PutTargets failed for rule ${rule.name}: ${reasons.join('; ')}`, { failed: reasons });
    }
  }

  async removeRule(ref: RuleRef): Promise<void> {
    const rule = { name: ref.name, busName: busNameOf(ref.busName) };
    try {
      // DeleteRule refuses a rule that still has targets.
      const ids = (await this.targetsOf(rule)).flatMap((t) => (t.Id === undefined ? [] : [t.Id]));
      if (ids.length > 0) await this.call(() => this.client.send(new RemoveTargetsCommand({ Rule: rule.name, EventBusName: rule.busName, Ids: ids })));
      await this.call(() => this.client.send(new DeleteRuleCommand({ Name: rule.name, EventBusName: rule.busName })));
    } catch (error) {
      if (error instanceof NotFoundError) return; // already gone
      throw error;
    }
  }

  async listRules(busName: string): Promise<RuleDescription[]> {
    const bus = busNameOf(busName);
    const rules: Rule[] = [];
    let token: string | undefined;
    do {
      const page = await this.call(() => this.client.send(new ListRulesCommand({ EventBusName: bus, ...(token === undefined ? {} : { NextToken: token }) })));
      rules.push(...(page.Rules ?? []));
      token = page.NextToken;
    } while (token !== undefined && token !== '');
    const described = await Promise.all(
      rules
        .filter((r): r is Rule & { Name: string; EventPattern: string } => r.Name !== undefined && r.EventPattern !== undefined)
        .sort((a, b) => (a.Name < b.Name ? -1 : a.Name > b.Name ? 1 : 0))
        .map(async (r): Promise<RuleDescription> => {
          const targets = await this.targetsOf({ name: r.Name, busName: bus });
          return {
            name: r.Name,
            busName: bus,
            eventPattern: r.EventPattern,
            state: r.State === 'DISABLED' ? 'DISABLED' : 'ENABLED',
            ...(r.Description === undefined ? {} : { description: r.Description }),
            targets: targets.flatMap((t) => this.fromTarget(t)).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)),
          };
        }),
    );
    return described;
  }

  /** All targets of a rule (ListTargetsByRule, every page); NotFoundError when the rule or bus does not exist. */
  private async targetsOf(rule: QualifiedRuleRef): Promise<Target[]> {
    const targets: Target[] = [];
    let token: string | undefined;
    do {
      const page = await this.call(() =>
        this.client.send(new ListTargetsByRuleCommand({ Rule: rule.name, EventBusName: rule.busName, ...(token === undefined ? {} : { NextToken: token }) })),
      );
      targets.push(...(page.Targets ?? []));
      token = page.NextToken;
    } while (token !== undefined && token !== '');
    return targets;
  }

  private async toTarget(target: EventTarget, rule: QualifiedRuleRef): Promise<Target> {
    const [arn, deadLetter] = await Promise.all([this.options.targetArn(target, rule), this.options.deadLetterArn?.(target, rule)]);
    return {
      Id: target.id,
      Arn: arn,
      ...(target.maximumRetryAttempts === undefined ? {} : { RetryPolicy: { MaximumRetryAttempts: target.maximumRetryAttempts } }),
      ...(deadLetter === undefined ? {} : { DeadLetterConfig: { Arn: deadLetter } }),
    };
  }

  private fromTarget(target: Target): EventTarget[] {
    const destination = target.Id === undefined || target.Arn === undefined ? undefined : this.targetOf(target.Arn);
    if (destination === undefined) return [];
    const attempts = target.RetryPolicy?.MaximumRetryAttempts;
    return [{ id: target.Id!, ...destination, ...(attempts === undefined ? {} : { maximumRetryAttempts: attempts }) }];
  }

  /** Sends one request, translating EventBridge's refusals to the project's errors. */
  private async call<T>(send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (error) {
      throw translate(error);
    }
  }
}

/**
 * What a target ARN stands for: a `handler` named by a Lambda function ARN's function name, a
 * `queue` named by an SQS queue ARN's queue name; undefined for any other ARN.
 *
 * @example
 * destinationOfArn('arn:aws:sqs:us-east-1:123456789012:task-events'); // { kind: 'queue', queue: 'task-events' }
 */
export function destinationOfArn(arn: string): TargetDestination | undefined {
  const fn = LAMBDA_ARN.exec(arn)?.[1];
  if (fn !== undefined) return { kind: 'handler', handler: fn };
  const queue = SQS_ARN.exec(arn)?.[1];
  if (queue !== undefined) return { kind: 'queue', queue };
  return undefined;
}

function translate(error: unknown): unknown {
  if (!(error instanceof EventBridgeServiceException)) return error;
  switch (error.name) {
    case 'ResourceNotFoundException':
      return Object.assign(new NotFoundError(error.message), { cause: error });
    case 'ValidationException':
    case 'InvalidEventPatternException':
      return Object.assign(new ValidationError(error.message), { cause: error });
    case 'LimitExceededException':
      return Object.assign(new ValidationError(`The requested resource exceeds the maximum number allowed: ${error.message}`), { cause: error });
    default:
      return error;
  }
}



