import { ConditionFailedError } from '../errors.js';
import type { Clock } from '../ports/clock.js';
import type { Table } from '../ports/table.js';

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
