/** Spool embedded: `SqliteQueue` on a fresh temp-dir `SqliteEngine` (default durability: fdatasync per group commit). */
import { setMaxListeners } from 'node:events';
import { openTempQueue } from '../queue-workload.js';
import { bounded, produce, Run, type Bounds, type Opened, type Payload, type RunResult, type Variant } from './workload.js';

export function openSpool(): Opened {
  return {
    durability:
      'fdatasync of the WAL per group commit before any send/receive/delete resolves (SQLite WAL, synchronous=NORMAL plus the engine\'s own fdatasync: every acknowledged write is on disk)',
    session: {
      run: runSpool,
      close: async () => {},
    },
  };
}

async function runSpool(variant: Variant, bounds: Bounds): Promise<RunResult> {
  const temp = openTempQueue();
  try {
    const { queue } = temp;
    const run = new Run(bounds);
    setMaxListeners(variant.consumers + 10, run.stop.signal);
    // As the runtime does: receive up to 10, run the handler for each, delete the batch.
    const consumer = async () => {
      while (!run.stopped) {
        const batch = await queue.receive({ maxMessages: 10, waitTimeSeconds: 1, signal: run.stop.signal });
        if (batch.length === 0) continue;
        for (const m of batch) run.handle(JSON.parse(m.body) as Payload);
        await queue.delete(batch.map((m) => m.receiptHandle));
        run.ack(batch.length);
      }
    };
    const consumers = Promise.all(Array.from({ length: variant.consumers }, consumer)).catch((error: unknown) =>
      run.finish(`consumer failed: ${error instanceof Error ? error.message : String(error)}`),
    );
    const producing = produce(run, variant.consumers, variant.batched, (messages) => queue.send(messages.map((m) => ({ body: JSON.stringify(m) }))));
    await run.done;
    // Every loop sees the stop within one call; bounded anyway.
    await bounded(Promise.all([producing, consumers]), 10_000);
    return run.result();
  } finally {
    temp.dispose();
  }
}
