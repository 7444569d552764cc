import { createHmac, randomUUID } from 'node:crypto';
import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import type { Notification, Topic } from '../../ports/topic.js';

/** A notification as subscribers receive it. */
export interface Delivered extends Notification {
  readonly messageId: string;
  readonly topic: string;
  /** ISO 8601. */
  readonly timestamp: string;
}

/** Receives every notification published on a {@link LocalTopic}. */
export type Subscriber = (notification: Delivered) => Promise<void> | void;

/**
 * SNS on one machine: publish hands the notification to each subscriber in turn. A
 * subscriber that fails is logged and does not stop the others or fail the publish,
 * as SNS isolates subscriptions.
 */
export class LocalTopic implements Topic {
  constructor(
    readonly name: string,
    private readonly subscribers: readonly Subscriber[],
    private readonly logger: Logger,
  ) {}

  async publish(notification: Notification): Promise<string> {
    const delivered: Delivered = { ...notification, messageId: randomUUID(), topic: this.name, timestamp: new Date().toISOString() };
    for (const subscriber of this.subscribers) {
      try {
        await subscriber(delivered);
      } catch (error) {
        this.logger.error({ err: error, topic: this.name, messageId: delivered.messageId }, 'topic subscriber failed');
      }
    }
    return delivered.messageId;
  }
}

/** Logs each notification at `warn` (alerts are worth seeing in the console). */
export function logSubscriber(logger: Logger): Subscriber {
  return (n) => logger.warn({ topic: n.topic, subject: n.subject, messageId: n.messageId, message: n.message }, 'notification');
}

/** Appends each notification as one JSON line to `path`; the append completes before publish resolves. */
export function outboxFileSubscriber(path: string): Subscriber {
  let ready: Promise<unknown> | undefined;
  return async (n) => {
    ready ??= mkdir(dirname(path), { recursive: true });
    await ready;
    await appendFile(path, `${JSON.stringify(n)}\n`, { mode: 0o600 });
  };
}

/**
 * POSTs each notification to `url` in the background (publish never waits on the network),
 * signed like job callbacks, retried with exponential backoff up to `attempts` times.
 */
export function webhookSubscriber(url: string, secret: string, logger: Logger, attempts = 5): Subscriber {
  return (n) => {
    const body = JSON.stringify(n);
    const signature = createHmac('sha256', secret).update(body).digest('hex');
    void (async () => {
      for (let attempt = 1; attempt <= attempts; attempt++) {
        try {
          const response = await fetch(url, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'x-spool-signature': `sha256=${signature}` },
            body,
            signal: AbortSignal.timeout(5000),
          });
          if (response.ok) return;
          logger.warn({ url, status: response.status, attempt }, 'alert webhook refused');
        } catch (error) {
          logger.warn({ url, err: error, attempt }, 'alert webhook failed');
        }
        await new Promise((r) => setTimeout(r, 2 ** attempt * 250));
      }
    })();
  };
}
