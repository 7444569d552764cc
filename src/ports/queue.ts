import type { Item, Table, WriteOptions } from './table.js';
/**
 * Queue port: the subset of Amazon SQS semantics the application relies on.
 *
 * At-least-once delivery; a received message is hidden for its visibility timeout and
 * comes back unless deleted with its latest receipt handle; once a message has been
 * received `maxReceiveCount` times, the next receive moves it to the dead-letter queue.
 */
export interface Queue {
  /** Logical name (`jobs`, `orders`, ...). */
  readonly name: string;
  /** The redrive policy this queue enforces. */
  readonly maxReceiveCount: number;
  /**
   * Sends at most {@link MAX_BATCH} messages; resolves once they are durable.
   * @returns the message ids, in input order.
   */
  send(messages: readonly OutgoingMessage[]): Promise<string[]>;
  /** Receives at most `maxMessages` (<= 10), long-polling up to `waitTimeSeconds`. */
  receive(options?: ReceiveOptions): Promise<ReceivedMessage[]>;
  /**
   * Deletes by receipt handle; an unknown or stale handle is not an error. Only the latest
   * handle is guaranteed to delete: SQS says of an older one that "the request succeeds,
   * but the message might not be deleted" (the embedded queue deletes nothing).
   */
  delete(receiptHandles: readonly string[]): Promise<void>;
  /** Makes an in-flight message visible again after `timeoutSeconds` (0 = now). */
  changeVisibility(receiptHandle: string, timeoutSeconds: number): Promise<void>;
  /** Approximate counts, as SQS reports them. */
  stats(): Promise<QueueStats>;
  /** Reads dead letters without consuming them. */
  peekDeadLetters(limit: number): Promise<DeadLetter[]>;
  /** Moves up to `limit` dead letters back to this queue, as new messages (new ids, receive count 0). */
  redrive(limit?: number): Promise<number>;
  /**
   * Optional (the embedded queue has it; SQS cannot): sends `messages` and puts `item` in
   * `table` in one transaction. The item is written only if the messages are sent, and only if
   * its conditions hold (a failed condition does not undo the send: `itemWritten` is false);
   * both are durable when the promise resolves. `table` must live in the same store.
   */
  sendWithItem?(
    messages: readonly OutgoingMessage[],
    table: Table,
    item: Item,
    options?: WriteOptions,
  ): Promise<{ readonly messageIds: string[]; readonly itemWritten: boolean }>;
}

/** SQS's hard limit on entries per batch call. */
export const MAX_BATCH = 10;
/** SQS's limit on `DelaySeconds`. */
export const MAX_DELAY_SECONDS = 900;
/** SQS's limit on `WaitTimeSeconds`. */
export const MAX_WAIT_SECONDS = 20;
/** SQS's limit on a visibility timeout (12 hours). */
export const MAX_VISIBILITY_SECONDS = 43_200;

export interface OutgoingMessage {
  readonly body: string;
  /** 0..900 seconds before the message first becomes visible. */
  readonly delaySeconds?: number;
}

export interface ReceiveOptions {
  /** 1..10, default 1. */
  readonly maxMessages?: number;
  /** 0..20, default 0 (short poll). */
  readonly waitTimeSeconds?: number;
  /** Overrides the queue's default visibility timeout for this receive. */
  readonly visibilityTimeoutSeconds?: number;
  /** Ends a long poll early (shutdown). */
  readonly signal?: AbortSignal;
}

export interface ReceivedMessage {
  readonly messageId: string;
  readonly body: string;
  /** Changes on every receive; only the latest one deletes. */
  readonly receiptHandle: string;
  /** 1 on first delivery (SQS `ApproximateReceiveCount`). */
  readonly receiveCount: number;
  /** Epoch milliseconds (SQS `SentTimestamp`). */
  readonly sentAt: number;
}

export interface DeadLetter {
  readonly messageId: string;
  readonly body: string;
  readonly receiveCount: number;
  readonly sentAt: number;
}

export interface QueueStats {
  readonly visible: number;
  readonly inFlight: number;
  readonly delayed: number;
  readonly deadLetters: number;
  /** Age in seconds of the oldest message, where the backend can tell (SQS exposes it only as a metric). */
  readonly oldestAgeSeconds?: number;
}

/** Throws a RangeError unless `n` is an integer in [min, max]. Shared by every adapter. */
export function assertIntegerInRange(what: string, n: number, min: number, max: number): void {
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new RangeError(`${what} must be an integer in [${min}, ${max}], got ${n}`);
  }
}
