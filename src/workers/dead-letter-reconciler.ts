import type { Logger } from 'pino';
import type { Clock } from '../ports/clock.js';
import type { DeadLetter, Queue } from '../ports/queue.js';
import type { Table } from '../ports/table.js';
import type { Topic } from '../ports/topic.js';
import { deadLetterNotification, publishDeadLetterAlertOnce } from './dead-letter-ledger.js';

/** A queue whose dead letters are reconciled, and what its domain does with one. */
export interface DeadLetterWatch {
  readonly queue: Queue;
  /** Settles the domain record of a message dead-lettered without a recorded final failure. */
  readonly onDeadLettered?: (letter: DeadLetter) => Promise<void>;
}

/** Dead letters looked at per queue and pass: the oldest first. */
const PEEK_LIMIT = 100;

/**
 * Finds messages that reached a dead-letter queue without their last attempt failing in a
 * handler — the process died during each of their deliveries, and SQS (like the embedded
 * queue) counts every delivery — and gives each its alert and its domain outcome (a job
 * becomes `failed`). Messages whose last attempt did fail were alerted on already; the
 * shared ledger makes this a no-op for them.
 *
 * @returns how many dead letters were newly reconciled.
 */
export async function reconcileDeadLetters(
  watches: readonly DeadLetterWatch[],
  deps: { ledger: Table; alerts: Topic; clock: Clock; logger: Logger },
): Promise<number> {
  let reconciled = 0;
  for (const { queue, onDeadLettered } of watches) {
    for (const letter of await queue.peekDeadLetters(PEEK_LIMIT)) {
      const error = 'delivery attempts exhausted without a recorded failure: the worker stopped during its last attempt';
      // Settling the record and alerting are both idempotent: a failed pass gives the claim back and the next one redoes them.
      const published = await publishDeadLetterAlertOnce(deps.ledger, queue.name, letter.messageId, deps.clock, async () => {
        await onDeadLettered?.(letter);
        deps.logger.error({ queue: queue.name, messageId: letter.messageId, attempts: letter.receiveCount }, error);
        await deps.alerts.publish(
          deadLetterNotification({ queue: queue.name, messageId: letter.messageId, attempts: letter.receiveCount, error, body: letter.body }),
        );
      });
      if (published) reconciled++;
    }
  }
  return reconciled;
}
