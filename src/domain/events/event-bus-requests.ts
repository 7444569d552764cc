import { ValidationError } from '../../errors.js';
import {
  DEFAULT_BUS_NAME,
  MAX_PUT_EVENTS_ENTRIES,
  MAX_RETRY_ATTEMPTS,
  putEventsEntrySize,
  type EventTarget,
  type PutEventsEntry,
  type RuleDefinition,
  type RuleRef,
} from '../../ports/event-bus.js';
import { parseEventPattern } from './event-pattern.js';

// EventBridge's name constraints (EventBusName, RuleName, Target Id).
const BUS_NAME = /^[/.\-_A-Za-z0-9]{1,256}$/;
const BUS_ARN = /^arn:aws[\w-]*:events:[a-z]{2}(?:-[a-z]+)+-\d+:\d{12}:event-bus\/(.+)$/;
const RULE_NAME = /^[.\-_A-Za-z0-9]{1,64}$/;
const TARGET_ID = /^[.\-_A-Za-z0-9]{1,64}$/;

/*
 * The request checks every EventBus adapter makes before it does anything, in EventBridge's
 * words, so that the embedded bus and EventBridge refuse the same requests the same way
 * (moto does not check most of them).
 */

/**
 * Refuses a PutEvents call with no entries, more than 10, or entries whose size (as
 * EventBridge counts it) is over `maxRequestBytes`. Per-entry problems are not checked here:
 * they fail their entry, not the call.
 */
export function checkPutEventsRequest(entries: readonly PutEventsEntry[], maxRequestBytes: number): void {
  if (entries.length < 1 || entries.length > MAX_PUT_EVENTS_ENTRIES) {
    throw new ValidationError(
      `1 validation error detected: Value at 'entries' failed to satisfy constraint: Member must have length between 1 and ${MAX_PUT_EVENTS_ENTRIES}`,
      { entries: entries.length },
    );
  }
  const size = entries.reduce((sum, entry) => sum + putEventsEntrySize(entry), 0);
  if (size > maxRequestBytes) {
    throw new ValidationError('Total size of the entries in the request is over the limit.', { sizeBytes: size, limitBytes: maxRequestBytes });
  }
}

/**
 * A bus name from a name or an event-bus ARN (default {@link DEFAULT_BUS_NAME}); ValidationError when it is neither.
 *
 * @example
 * busNameOf('arn:aws:events:us-east-1:123456789012:event-bus/task-events-dev'); // 'task-events-dev'
 */
export function busNameOf(nameOrArn: string | undefined): string {
  if (nameOrArn === undefined) return DEFAULT_BUS_NAME;
  const name = BUS_ARN.exec(nameOrArn)?.[1] ?? nameOrArn;
  if (!BUS_NAME.test(name)) {
    throw new ValidationError(`Parameter EventBusName is not valid. Reason: ${JSON.stringify(nameOrArn)} is not a bus name ([/.-_A-Za-z0-9], 1..256) or an event-bus ARN.`);
  }
  return name;
}

/** Checks a PutRule request (name, pattern, description, state); returns the bus name and the state to store. */
export function checkRuleDefinition(rule: RuleDefinition): { readonly busName: string; readonly state: 'ENABLED' | 'DISABLED' } {
  const busName = busNameOf(rule.busName);
  assertName('Name', rule.name, RULE_NAME);
  if (typeof rule.eventPattern !== 'string') throw new ValidationError('Parameter EventPattern is not valid. Reason: EventPattern must be JSON text.');
  parseEventPattern(rule.eventPattern); // throws ValidationError in EventBridge's words
  if (rule.description !== undefined && rule.description.length > 512) throw new ValidationError('Parameter Description is not valid. Reason: at most 512 characters.');
  const state = rule.state ?? 'ENABLED';
  if (state !== 'ENABLED' && state !== 'DISABLED') throw new ValidationError(`Parameter State is not valid. Reason: ${String(state)} is not ENABLED or DISABLED.`);
  return { busName, state };
}

/** Checks a PutTargets request: the rule's name, at least one target, each valid, ids unique. Returns the bus name and the target ids. */
export function checkTargets(ref: RuleRef, targets: readonly EventTarget[]): { readonly busName: string; readonly ids: ReadonlySet<string> } {
  const busName = busNameOf(ref.busName);
  assertName('Rule', ref.name, RULE_NAME);
  if (targets.length < 1) throw new ValidationError('Parameter Targets is not valid. Reason: at least one target is required.');
  const ids = new Set<string>();
  for (const target of targets) {
    assertTarget(target);
    if (ids.has(target.id)) throw new ValidationError(`Parameter Targets is not valid. Reason: target id ${target.id} appears twice.`);
    ids.add(target.id);
  }
  return { busName, ids };
}

function assertName(param: string, value: string, pattern: RegExp): void {
  if (typeof value !== 'string' || !pattern.test(value)) {
    throw new ValidationError(`Parameter ${param} is not valid. Reason: ${JSON.stringify(value)} must match ${pattern.source}.`);
  }
}

function assertTarget(target: EventTarget): void {
  assertName('Targets.Id', target.id, TARGET_ID);
  const attempts = target.maximumRetryAttempts;
  if (attempts !== undefined && (!Number.isInteger(attempts) || attempts < 0 || attempts > MAX_RETRY_ATTEMPTS)) {
    throw new ValidationError(`Parameter RetryPolicy.MaximumRetryAttempts is not valid. Reason: must be an integer in [0, ${MAX_RETRY_ATTEMPTS}].`);
  }
  const name = target.kind === 'handler' ? target.handler : target.kind === 'queue' ? target.queue : undefined;
  if (typeof name !== 'string' || name === '') {
    throw new ValidationError(`Parameter Targets is not valid. Reason: target ${target.id} must name a handler (kind "handler") or a queue (kind "queue").`);
  }
}
