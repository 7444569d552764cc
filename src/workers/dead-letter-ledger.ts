import { ConditionFailedError } from '../errors.js';
import type { Clock } from '../ports/clock.js';
import type { Table } from '../ports/table.js';
import type { Notification } from '../ports/topic.js';

/** How long the ledger remembers an alerted dead letter (DLQ retention is 14 days). */
const REMEMBER_SECONDS = 30 * 24 * 3600;

/**
 * Claims the one alert a dead-lettered message gets. Both places that can notice a dead
 * letter call it — the last failed attempt, and the reconciler that finds messages
 * dead-lettered without one (the worker died during its last attempt) — and only the
 * first claim wins, so each dead-lettered message is alerted on exactly once.
 *
 * @returns true when this caller should publish the alert.
 */
export async function claimDeadLetterAlert(ledger: Table, queue: string, messageId: string, clock: Clock): Promise<boolean> {
  try {
    await ledger.put(
      { pk: `DEADLETTER#${queue}#${messageId}`, sk: 'ALERT', expiresAt: Math.floor(clock.now() / 1000) + REMEMBER_SECONDS },
      { conditions: [{ kind: 'notExists' }] },
    );
    return true;
  } catch (error) {
    if (error instanceof ConditionFailedError) return false;
    throw error;
  }
}

/**
 * Publishes a dead letter's one alert: claims it, publishes, and gives the claim back when
 * publishing fails, so that the failure does not swallow the alert: the dead-letter
 * reconciler finds the message unclaimed and alerts on its next pass. (A process that dies
 * between the claim and the publish still loses that alert; the DLQ depth alarm remains.)
 *
 * @returns true when this call published the alert, false when another caller had claimed it.
 * @example
 * await publishDeadLetterAlertOnce(ledger, 'jobs', messageId, clock, () => alerts.publish(notification));
 */
export async function publishDeadLetterAlertOnce(
  ledger: Table,
  queue: string,
  messageId: string,
  clock: Clock,
  publish: () => Promise<unknown>,
): Promise<boolean> {
  if (!(await claimDeadLetterAlert(ledger, queue, messageId, clock))) return false;
  try {
    await publish();
    return true;
  } catch (error) {
    await ledger.delete({ pk: `DEADLETTER#${queue}#${messageId}`, sk: 'ALERT' }).catch(() => undefined);
    throw error;
  }
}

/**
 * The alert of a dead-lettered message, the same from the last failed attempt and from the
 * reconciler: subject `[spool] <queue>: message dead-lettered`, a JSON message with the queue,
 * message id, attempts, error and the body (cut at 2,000 characters).
 */
export function deadLetterNotification(letter: { queue: string; messageId: string; attempts: number; error: string; body: string }): Notification {
  return {
    subject: `[spool] ${letter.queue}: message dead-lettered`.slice(0, 100),
    message: JSON.stringify({
      kind: 'dead-lettered',
      queue: letter.queue,
      messageId: letter.messageId,
      attempts: letter.attempts,
      error: letter.error,
      body: letter.body.length > 2000 ? `${letter.body.slice(0, 2000)}…` : letter.body,
    }),
  };
}
