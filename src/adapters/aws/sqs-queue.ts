import {
  ChangeMessageVisibilityCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  MessageNotInflight,
  ReceiptHandleIsInvalid,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SQSServiceException,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import {
  assertIntegerInRange,
  MAX_BATCH,
  MAX_DELAY_SECONDS,
  MAX_VISIBILITY_SECONDS,
  MAX_WAIT_SECONDS,
  type DeadLetter,
  type OutgoingMessage,
  type Queue,
  type QueueStats,
  type ReceivedMessage,
  type ReceiveOptions,
} from '../../ports/queue.js';

/** How to reach one queue and its dead-letter queue. */
export interface SqsQueueOptions {
  readonly client: SQSClient;
  /** Logical name (`jobs`, ...). */
  readonly name: string;
  readonly queueUrl: string;
  readonly deadLetterQueueUrl: string;
  /** Must match the queue's RedrivePolicy, which SQS enforces; kept here for the callers. */
  readonly maxReceiveCount: number;
}

// Redrive hides what it has taken for this long, so a slow batch is not taken twice.
const REDRIVE_VISIBILITY_SECONDS = 30;
// Dead-letter reads long-poll briefly: a short poll samples only some SQS servers and
// may answer empty although the queue holds messages.
const DEAD_LETTER_WAIT_SECONDS = 1;

/** The {@link Queue} port on Amazon SQS: a source queue whose RedrivePolicy points at `deadLetterQueueUrl`. */
export class SqsQueue implements Queue {
  readonly name: string;
  readonly maxReceiveCount: number;
  private readonly client: SQSClient;
  private readonly queueUrl: string;
  private readonly deadLetterQueueUrl: string;

  constructor(options: SqsQueueOptions) {
    assertIntegerInRange('maxReceiveCount', options.maxReceiveCount, 1, 1000);
    this.client = options.client;
    this.name = options.name;
    this.queueUrl = options.queueUrl;
    this.deadLetterQueueUrl = options.deadLetterQueueUrl;
    this.maxReceiveCount = options.maxReceiveCount;
  }

  async send(messages: readonly OutgoingMessage[]): Promise<string[]> {
    assertIntegerInRange('batch size', messages.length, 1, MAX_BATCH);
    for (const m of messages) assertIntegerInRange('delaySeconds', m.delaySeconds ?? 0, 0, MAX_DELAY_SECONDS);
    return this.sendTo(this.queueUrl, messages);
  }

  async receive(options: ReceiveOptions = {}): Promise<ReceivedMessage[]> {
    const max = options.maxMessages ?? 1;
    const wait = options.waitTimeSeconds ?? 0;
    assertIntegerInRange('maxMessages', max, 1, MAX_BATCH);
    assertIntegerInRange('waitTimeSeconds', wait, 0, MAX_WAIT_SECONDS);
    if (options.visibilityTimeoutSeconds !== undefined) {
      assertIntegerInRange('visibilityTimeoutSeconds', options.visibilityTimeoutSeconds, 0, MAX_VISIBILITY_SECONDS);
    }
    try {
      const messages = await this.receiveFrom(this.queueUrl, max, wait, options.visibilityTimeoutSeconds, options.signal);
      return messages.map(toReceived);
    } catch (error) {
      // An aborted long poll is a shutdown, not a failure. Messages SQS handed out just as
      // the poll was aborted are lost to us and come back after their visibility timeout.
      if (options.signal?.aborted === true) return [];
      throw error;
    }
  }

  async delete(receiptHandles: readonly string[]): Promise<void> {
    assertIntegerInRange('batch size', receiptHandles.length, 1, MAX_BATCH);
    await this.deleteFrom(this.queueUrl, receiptHandles);
  }

  async changeVisibility(receiptHandle: string, timeoutSeconds: number): Promise<void> {
    assertIntegerInRange('visibilityTimeoutSeconds', timeoutSeconds, 0, MAX_VISIBILITY_SECONDS);
    try {
      await this.client.send(
        new ChangeMessageVisibilityCommand({ QueueUrl: this.queueUrl, ReceiptHandle: receiptHandle, VisibilityTimeout: timeoutSeconds }),
      );
    } catch (error) {
      // The message was deleted, re-received or is no longer in flight: as for delete, a
      // stale handle changes nothing and is not an error.
      if (!isStaleHandleError(error)) throw error;
    }
  }

  async stats(): Promise<QueueStats> {
    const [source, dead] = await Promise.all([this.counts(this.queueUrl), this.counts(this.deadLetterQueueUrl)]);
    // oldestAgeSeconds is left out: SQS exposes it only as the CloudWatch metric ApproximateAgeOfOldestMessage.
    return { visible: source.visible, inFlight: source.notVisible, delayed: source.delayed, deadLetters: dead.visible + dead.notVisible };
  }

  /**
   * SQS cannot read without receiving: this receives with a visibility timeout of 0, so
   * the messages stay available, but each peek adds one to their receive count.
   */
  async peekDeadLetters(limit: number): Promise<DeadLetter[]> {
    assertIntegerInRange('limit', limit, 1, 1000);
    const seen = new Map<string, DeadLetter>();
    // With a visibility timeout of 0 the same messages may come back in the next call:
    // stop when a call brings nothing new.
    for (;;) {
      const batch = (await this.receiveDeadLetters(Math.min(MAX_BATCH, limit - seen.size), 0)).map(toReceived);
      const fresh = batch.filter((m) => !seen.has(m.messageId));
      for (const { messageId, body, receiveCount, sentAt } of fresh) seen.set(messageId, { messageId, body, receiveCount, sentAt });
      if (fresh.length === 0 || seen.size >= limit) return [...seen.values()];
    }
  }

  /**
   * Receives from the dead-letter queue, sends the bodies to this queue as new messages
   * (new ids, receive count 0), then deletes them from the dead-letter queue: at least
   * once, a crash in between duplicates rather than loses. SQS's StartMessageMoveTask would
   * do this server-side, but it is asynchronous and moto does not implement it.
   */
  async redrive(limit = 1000): Promise<number> {
    assertIntegerInRange('limit', limit, 1, 100_000);
    // Move at most what is dead now: a redriven message that fails again returns to the DLQ
    // while this loop runs, and must not be moved around again and again.
    const target = Math.min(limit, (await this.counts(this.deadLetterQueueUrl)).visible);
    let moved = 0;
    while (moved < target) {
      const batch = await this.receiveDeadLetters(Math.min(MAX_BATCH, target - moved), REDRIVE_VISIBILITY_SECONDS);
      if (batch.length === 0) break;
      await this.sendTo(this.queueUrl, batch.map((m) => ({ body: required(m.Body, 'Body') })));
      await this.deleteFrom(this.deadLetterQueueUrl, batch.map((m) => required(m.ReceiptHandle, 'ReceiptHandle')));
      moved += batch.length;
    }
    return moved;
  }

  private receiveDeadLetters(max: number, visibilityTimeoutSeconds: number): Promise<Message[]> {
    return this.receiveFrom(this.deadLetterQueueUrl, max, DEAD_LETTER_WAIT_SECONDS, visibilityTimeoutSeconds, undefined);
  }

  private async receiveFrom(
    queueUrl: string,
    max: number,
    waitTimeSeconds: number,
    visibilityTimeoutSeconds: number | undefined,
    signal: AbortSignal | undefined,
  ): Promise<Message[]> {
    const response = await this.client.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: max,
        WaitTimeSeconds: waitTimeSeconds,
        VisibilityTimeout: visibilityTimeoutSeconds,
        MessageSystemAttributeNames: ['ApproximateReceiveCount', 'SentTimestamp'],
      }),
      { abortSignal: signal },
    );
    return response.Messages ?? [];
  }

  private async sendTo(queueUrl: string, messages: readonly OutgoingMessage[]): Promise<string[]> {
    const response = await this.client.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: messages.map((m, i) => ({ Id: String(i), MessageBody: m.body, DelaySeconds: m.delaySeconds })),
      }),
    );
    // A partly failed batch still sent the other entries; the caller's retry may duplicate
    // them, which at-least-once delivery allows.
    throwOnFailures('SendMessageBatch', response.Failed);
    const ids = new Map((response.Successful ?? []).map((s) => [s.Id, s.MessageId]));
    return messages.map((_, i) => required(ids.get(String(i)), `MessageId of entry ${i}`));
  }

  private async deleteFrom(queueUrl: string, receiptHandles: readonly string[]): Promise<void> {
    const response = await this.client.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: receiptHandles.map((handle, i) => ({ Id: String(i), ReceiptHandle: handle })),
      }),
    );
    // The port: a stale or unknown handle deletes nothing and is not an error.
    throwOnFailures('DeleteMessageBatch', response.Failed?.filter((f) => f.Code !== 'ReceiptHandleIsInvalid'));
  }

  private async counts(queueUrl: string): Promise<{ visible: number; notVisible: number; delayed: number }> {
    const response = await this.client.send(
      new GetQueueAttributesCommand({
        QueueUrl: queueUrl,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'],
      }),
    );
    const a = response.Attributes ?? {};
    return {
      visible: Number(a.ApproximateNumberOfMessages ?? 0),
      notVisible: Number(a.ApproximateNumberOfMessagesNotVisible ?? 0),
      delayed: Number(a.ApproximateNumberOfMessagesDelayed ?? 0),
    };
  }
}

function toReceived(m: Message): ReceivedMessage {
  return {
    messageId: required(m.MessageId, 'MessageId'),
    body: required(m.Body, 'Body'),
    receiptHandle: required(m.ReceiptHandle, 'ReceiptHandle'),
    receiveCount: Number(required(m.Attributes?.ApproximateReceiveCount, 'ApproximateReceiveCount')),
    sentAt: Number(required(m.Attributes?.SentTimestamp, 'SentTimestamp')),
  };
}

/** SQS's model marks every response field optional; a missing one is a broken response. */
function required<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`SQS response lacks ${what}`);
  return value;
}

function throwOnFailures(operation: string, failed: readonly { Id?: string; Code?: string; Message?: string }[] | undefined): void {
  if (failed === undefined || failed.length === 0) return;
  const reasons = failed.map((f) => `entry ${f.Id}: ${f.Code} ${f.Message ?? ''}`.trim());
  throw new Error(`${operation} failed for ${failed.length} entries: ${reasons.join('; ')}`);
}

function isStaleHandleError(error: unknown): boolean {
  if (error instanceof ReceiptHandleIsInvalid || error instanceof MessageNotInflight) return true;
  // Real SQS answers a handle whose message is gone with InvalidParameterValue ("Message
  // does not exist or is not available for visibility timeout change"); other invalid
  // parameters (the 12-hour total visibility limit) must still surface.
  return error instanceof SQSServiceException && error.name === 'InvalidParameterValue' && /ReceiptHandle|does not exist/i.test(error.message);
}
