import { setTimeout as delay } from 'node:timers/promises';

export interface QueueStatsView {
  name: string;
  visible: number;
  inFlight: number;
  delayed: number;
  deadLetters: number;
}

/** `GET /admin/queues`, as a map by queue name. */
export async function queueStats(url: string): Promise<Map<string, QueueStatsView>> {
  const response = await fetch(`${url}/admin/queues`);
  if (!response.ok) throw new Error(`GET /admin/queues: ${response.status}`);
  const body = (await response.json()) as { queues: QueueStatsView[] };
  return new Map(body.queues.map((q) => [q.name, q]));
}

/** Messages of a queue not yet done with: visible + in flight + delayed. */
export const backlogOf = (q: QueueStatsView | undefined): number => (q === undefined ? 0 : q.visible + q.inFlight + q.delayed);

/**
 * Polls `GET /admin/queues` every `everyMs` (each poll scans the queue's rows) until the jobs queue has nothing visible, in
 * flight or delayed; returns when that was first seen (performance.now()), or undefined
 * on timeout.
 */
export async function waitForJobsDrained(url: string, timeoutMs: number, everyMs = 100): Promise<{ at: number; deadLetters: number } | undefined> {
  const until = performance.now() + timeoutMs;
  while (performance.now() < until) {
    const jobs = (await queueStats(url)).get('jobs');
    if (backlogOf(jobs) === 0) return { at: performance.now(), deadLetters: jobs?.deadLetters ?? 0 };
    await delay(everyMs);
  }
  return undefined;
}

/** `GET /status/{id}` for a random sample of `ids`; counts by status. */
export async function sampleStatuses(url: string, ids: readonly string[], sample: number): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  const picks = Array.from({ length: Math.min(sample, ids.length) }, () => ids[Math.floor(Math.random() * ids.length)]!);
  for (const id of picks) {
    const response = await fetch(`${url}/status/${id}`);
    const status = response.ok ? String(((await response.json()) as { status: string }).status) : `HTTP ${response.status}`;
    counts[status] = (counts[status] ?? 0) + 1;
  }
  return counts;
}
