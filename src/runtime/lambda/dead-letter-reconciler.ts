import { systemClock } from '../../ports/clock.js';
import { reconcileDeadLetters } from '../../workers/dead-letter-reconciler.js';
import { consumers, logger, ports } from './worker-bootstrap.js';

/** What one run did; Lambda returns it to synchronous callers (`aws lambda invoke`). */
export interface ReconcileResult {
  /** Dead letters newly alerted on (and, for jobs, marked `failed`) in this run. */
  readonly reconciled: number;
}

/**
 * Lambda entry point of the dead-letter reconciler, invoked by a schedule (every 5 minutes;
 * see infra/constructs/reconciler.ts). The event carries nothing the run needs and is ignored.
 *
 * Finds messages in the jobs, orders and callbacks DLQs that got there without a failing last
 * attempt (the worker died during each delivery) and gives each its one alert and its domain
 * outcome, as the local runtime does at start and every SPOOL_RECONCILE_INTERVAL_MS. A failure
 * is thrown, so the invocation counts as an error (alarmed); the next run picks up where it
 * stopped, since the shared ledger makes reconciling a message once more a no-op.
 */
export async function handler(_event?: unknown): Promise<ReconcileResult> {
  try {
    const reconciled = await reconcileDeadLetters([consumers.jobs, consumers.orders, consumers.callbacks], {
      ledger: ports.jobsTable,
      alerts: ports.alerts,
      clock: systemClock,
      logger,
    });
    logger.info({ reconciled }, 'dead-letter reconciliation done');
    return { reconciled };
  } catch (err) {
    logger.error({ err }, 'dead-letter reconciliation failed');
    throw err;
  }
}
