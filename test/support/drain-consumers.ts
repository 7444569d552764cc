import type { Consumer } from '../../src/runtime/consumers.js';
import { processBatch } from '../../src/workers/queue-record.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * One pass over `consumers` the way the local event source runs them (a batch each, partial batch
 * failures, successes deleted), without its long polls: tests drive delivery step by step with it.
 * Returns how many records were handled.
 */
export async function drainOnce(consumers: readonly Consumer[]): Promise<number> {
  let handled = 0;
  for (const { queue, handler, policy } of consumers) {
    const records = await queue.receive({ maxMessages: 10 });
    if (records.length === 0) continue;
    handled += records.length;
    const { batchItemFailures } = await processBatch(records, handler, policy);
    const failed = new Set(batchItemFailures.map((f) => f.itemIdentifier));
    const done = records.filter((r) => !failed.has(r.messageId)).map((r) => r.receiptHandle);
    if (done.length > 0) await queue.delete(done);
  }
  return handled;
}

/**
 * Drains at least once, then until `done()` holds or `timeoutMs` passed. `consumers()` is asked
 * again on every pass, so consumers for rules put meanwhile are picked up.
 */
export async function drainUntil(consumers: () => Promise<readonly Consumer[]>, done: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const handled = await drainOnce(await consumers());
    if ((await done()) || Date.now() >= until) return;
    if (handled === 0) await sleep(20);
  }
}
