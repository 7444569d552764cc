/**
 * EventBus port: the subset of Amazon EventBridge the application relies on.
 *
 * `putEvents` has PutEvents' semantics: 1..10 entries per call, a size limit on the whole
 * request (computed the way EventBridge computes it, see {@link putEventsEntrySize}), and a
 * result per entry, in input order: an event id, or an error code and message for that entry
 * alone (a malformed Detail fails its entry, not the call). Rules select events with the
 * EventBridge event-pattern language (validated when the rule is put, as PutRule does); each
 * matching target gets the event at least once, with retries, and a target that keeps failing
 * ends in that target's dead-letter queue.
 */
export interface EventBus {
  /**
   * Accepts 1..{@link MAX_PUT_EVENTS_ENTRIES} events; resolves once the accepted ones are durable.
   * Throws ValidationError for the whole call (more than 10 entries, none, a request over the size
   * limit, a malformed bus name), as EventBridge answers `ValidationException`.
   */
  putEvents(entries: readonly PutEventsEntry[]): Promise<PutEventsResult>;
  /**
   * Creates or replaces a rule (PutRule is an upsert; targets are kept). Throws ValidationError on
   * a pattern EventBridge would refuse ("Event pattern is not valid. Reason: ...") or a bad name.
   */
  putRule(rule: RuleDefinition): Promise<void>;
  /**
   * Adds or replaces targets of a rule, by target id (PutTargets). Throws NotFoundError when the
   * rule does not exist, ValidationError on a bad target or over {@link MAX_TARGETS_PER_RULE}.
   */
  putTargets(rule: RuleRef, targets: readonly EventTarget[]): Promise<void>;
  /** Deletes a rule together with its targets (RemoveTargets + DeleteRule); a missing rule is not an error. */
  removeRule(rule: RuleRef): Promise<void>;
  /** The rules of a bus with their targets, by rule name. */
  listRules(busName: string): Promise<RuleDescription[]>;
}

/** EventBridge's limit on entries per PutEvents call. */
export const MAX_PUT_EVENTS_ENTRIES = 10;
/**
 * The PutEvents request size limit this system enforces, in bytes of {@link putEventsEntrySize}
 * summed over the entries: 256 KB, the limit the recipes were written against. (EventBridge raised
 * its own limit to 1 MB on 2026-01-29; pass `maxRequestBytes` to an adapter to follow it.)
 */
export const MAX_PUT_EVENTS_BYTES = 256 * 1024;
/** EventBridge's quota of targets per rule. */
export const MAX_TARGETS_PER_RULE = 5;
/** EventBridge's limit on a target's `RetryPolicy.MaximumRetryAttempts`, and its default. */
export const MAX_RETRY_ATTEMPTS = 185;
/** The bus an entry without `eventBusName` goes to. */
export const DEFAULT_BUS_NAME = 'default';

/** One PutEvents entry (`PutEventsRequestEntry`). An empty `source`, `detailType` or `detail` fails the entry (`InvalidArgument`). */
export interface PutEventsEntry {
  readonly source: string;
  readonly detailType: string;
  /** JSON text of an object; anything else fails the entry with `MalformedDetail`. */
  readonly detail: string;
  /** A bus name or ARN; default {@link DEFAULT_BUS_NAME}. */
  readonly eventBusName?: string;
  /** The event's `time`; default: when it is accepted. */
  readonly time?: Date;
  /** ARNs the event concerns (the event's `resources`). */
  readonly resources?: readonly string[];
}

/** Per-entry error codes of PutEvents (`PutEventsResultEntry.ErrorCode`) that this system can produce. */
export type PutEventsErrorCode = 'InvalidArgument' | 'MalformedDetail' | 'InternalFailure';

/** The result for one entry, at the entry's index: an event id, or why the entry failed. */
export type PutEventsResultEntry = { readonly eventId: string } | { readonly errorCode: PutEventsErrorCode; readonly errorMessage: string };

export interface PutEventsResult {
  readonly failedEntryCount: number;
  /** One per entry, in input order. */
  readonly entries: readonly PutEventsResultEntry[];
}

/** A rule, by bus and name. */
export interface RuleRef {
  readonly name: string;
  /** Default {@link DEFAULT_BUS_NAME}. */
  readonly busName?: string;
}

export interface RuleDefinition extends RuleRef {
  /** The event pattern as JSON text, exactly as PutRule takes it. */
  readonly eventPattern: string;
  /** Default ENABLED; a disabled rule matches nothing. */
  readonly state?: 'ENABLED' | 'DISABLED';
  readonly description?: string;
}

export interface RuleDescription {
  readonly name: string;
  readonly busName: string;
  readonly eventPattern: string;
  readonly state: 'ENABLED' | 'DISABLED';
  readonly description?: string;
  readonly targets: readonly EventTarget[];
}

/**
 * Where a rule sends matching events: a named event handler (locally a function registered with
 * the runtime; on AWS a Lambda function) or a named queue (the full event JSON is the message body).
 * `maximumRetryAttempts` (0..185, default 185) is EventBridge's `RetryPolicy.MaximumRetryAttempts`:
 * after that many retries the event goes to the target's dead-letter queue.
 */
export type EventTarget =
  | { readonly id: string; readonly kind: 'handler'; readonly handler: string; readonly maximumRetryAttempts?: number }
  | { readonly id: string; readonly kind: 'queue'; readonly queue: string; readonly maximumRetryAttempts?: number };

/**
 * An event as EventBridge delivers it to targets.
 *
 * @example
 * const e: EventEnvelope = { version: '0', id: '…', 'detail-type': 'Task Created', source: 'task.management',
 *   account: '000000000000', time: '2024-05-01T12:00:00Z', region: 'us-east-1', resources: [], detail: {} };
 */
export interface EventEnvelope {
  readonly version: '0';
  readonly id: string;
  readonly 'detail-type': string;
  readonly source: string;
  readonly account: string;
  /** RFC 3339 in UTC to the second, e.g. `2024-05-01T12:00:00Z`. */
  readonly time: string;
  readonly region: string;
  readonly resources: readonly string[];
  readonly detail: Readonly<Record<string, unknown>>;
}

/** What an event handler knows about the current delivery attempt. */
export interface DeliveryAttempt {
  /** 1 on the first delivery. */
  readonly number: number;
  /** True when this is the last attempt before the event goes to the target's dead-letter queue. */
  readonly final: boolean;
  readonly signal: AbortSignal;
}

/** Handles one event delivered to a `handler` target; throws to fail the attempt (it is then retried). */
export type EventHandler = (event: EventEnvelope, attempt: DeliveryAttempt) => Promise<void>;

/**
 * The size EventBridge counts for one PutEvents entry ("Calculating PutEvents event entry size"):
 * 14 bytes for `Time` when given, plus the UTF-8 bytes of `Source`, `DetailType`, `Detail` and each
 * of `Resources`. The request is refused when the sum over its entries is over the limit.
 *
 * @example
 * putEventsEntrySize({ source: 'a', detailType: 'b', detail: '{}' }); // 4
 */
export function putEventsEntrySize(entry: PutEventsEntry): number {
  let size = entry.time === undefined ? 0 : 14;
  size += Buffer.byteLength(entry.source, 'utf8') + Buffer.byteLength(entry.detailType, 'utf8') + Buffer.byteLength(entry.detail, 'utf8');
  for (const resource of entry.resources ?? []) size += Buffer.byteLength(resource, 'utf8');
  return size;
}

/** Whether a PutEvents result entry is a failure. */
export function isFailedEntry(entry: PutEventsResultEntry): entry is { errorCode: PutEventsErrorCode; errorMessage: string } {
  return 'errorCode' in entry;
}
