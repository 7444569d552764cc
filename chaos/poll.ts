export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Calls `read` until `done` holds or `deadline` (an epoch ms) passes; returns the last
 * value and whether `done` held. Bounded in time whatever `read` answers.
 */
export async function pollUntil<T>(read: () => Promise<T>, done: (value: T) => boolean, deadline: number, everyMs = 250): Promise<{ value: T; met: boolean }> {
  let value = await read();
  while (!done(value)) {
    if (Date.now() + everyMs > deadline) return { value, met: false };
    await sleep(everyMs);
    value = await read();
  }
  return { value, met: true };
}

/** Runs `work` over `items` with at most `concurrency` calls at once. */
export async function forEachLimit<T>(items: readonly T[], concurrency: number, work: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      await work(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}
