/**
 * The workload of figure 8, shared by every engine: producers enqueue N small job-shaped
 * messages (single or 10 per call) while consumers take them, run a no-op handler and
 * acknowledge them. A `Run` counts enqueues, handler calls and acknowledgements, records
 * the enqueue -> handler latency from the timestamp carried in each payload, and ends at
 * the last acknowledgement or at the time bound, whichever comes first.
 */
import { randomUUID } from 'node:crypto';
import type { Mode } from '../report.js';

export interface Variant {
  readonly consumers: 1 | 10;
  /** `true`: each enqueue call carries 10 messages; `false`: one message per call. */
  readonly batched: boolean;
}

export const VARIANTS: readonly Variant[] = [
  { consumers: 1, batched: false },
  { consumers: 1, batched: true },
  { consumers: 10, batched: false },
  { consumers: 10, batched: true },
];

export const BATCH = 10;

export function variantName(v: Variant): string {
  return `${v.consumers} consumer${v.consumers === 1 ? '' : 's'}, ${v.batched ? 'batched' : 'single'} enqueue`;
}

export interface Bounds {
  /** Messages to enqueue and acknowledge (count bound). */
  readonly messages: number;
  /** Stop after this long even if fewer were acknowledged (time bound). */
  readonly timeLimitMs: number;
}

export function bounds(mode: Mode): Bounds {
  return mode === 'quick' ? { messages: 5_000, timeLimitMs: 10_000 } : { messages: 100_000, timeLimitMs: 60_000 };
}

/** Not reported: JIT, page cache, connection pools, prepared statements. */
export const WARM_UP: Bounds = { messages: 500, timeLimitMs: 5_000 };

/** A job-shaped message (~150 bytes as JSON) carrying its enqueue time. */
export interface Payload {
  readonly jobId: string;
  readonly task: string;
  readonly data: { readonly i: number };
  readonly createdAt: string;
  /** `performance.now()` just before the enqueue call (same process as the consumer). */
  readonly sentAt: number;
}

export function payload(i: number): Payload {
  return { jobId: randomUUID(), task: 'echo', data: { i }, createdAt: new Date().toISOString(), sentAt: performance.now() };
}

export interface RunResult {
  readonly enqueued: number;
  readonly handled: number;
  readonly acked: number;
  /** First enqueue to the last acknowledgement (or to the time bound). */
  readonly elapsedMs: number;
  readonly timedOut: boolean;
  /** Enqueue -> handler start, one sample per handler call. */
  readonly latenciesMs: readonly number[];
  /** Anything the engine wants to say about this run (e.g. errors it saw). */
  readonly notes: readonly string[];
}

export class Run {
  readonly started = performance.now();
  readonly stop = new AbortController();
  enqueued = 0;
  handled = 0;
  acked = 0;
  timedOut = false;
  readonly latenciesMs: number[] = [];
  readonly notes: string[] = [];
  private endedAt: number | undefined;
  private reserved = 0;
  private readonly timer: NodeJS.Timeout;
  private resolveDone!: () => void;
  /** Resolves at the last acknowledgement or at the time bound. */
  readonly done = new Promise<void>((resolve) => (this.resolveDone = resolve));

  constructor(readonly bounds: Bounds) {
    this.timer = setTimeout(() => {
      this.timedOut = true;
      this.finish();
    }, bounds.timeLimitMs);
  }

  get stopped(): boolean {
    return this.stop.signal.aborted;
  }

  /** Claims up to `n` messages for a producer; 0 once all are claimed or the run stopped. */
  claim(n: number): number {
    if (this.stopped) return 0;
    const take = Math.min(n, this.bounds.messages - this.reserved);
    this.reserved += take;
    return Math.max(0, take);
  }

  /** The handler: a no-op that records the latency. */
  handle(p: Payload): void {
    this.handled++;
    this.latenciesMs.push(performance.now() - p.sentAt);
  }

  ack(n: number): void {
    if (this.endedAt !== undefined) return;
    this.acked += n;
    if (this.acked >= this.bounds.messages) this.finish();
  }

  /** Ends the run now (last acknowledgement, time bound, or an engine error). */
  finish(note?: string): void {
    if (note !== undefined) this.notes.push(note);
    if (this.endedAt !== undefined) return;
    this.endedAt = performance.now();
    clearTimeout(this.timer);
    this.stop.abort();
    this.resolveDone();
  }

  /** The result; `acked` can be overridden by engines that learn it afterwards. */
  result(acked = this.acked): RunResult {
    return {
      enqueued: this.enqueued,
      handled: this.handled,
      acked,
      elapsedMs: (this.endedAt ?? performance.now()) - this.started,
      timedOut: this.timedOut,
      latenciesMs: this.latenciesMs,
      notes: this.notes,
    };
  }
}

/**
 * `count` producer loops, each enqueueing one message per call (or BATCH per call when
 * batched) until every message is claimed or the run stops. An enqueue error ends the run.
 */
export async function produce(run: Run, count: number, batched: boolean, enqueue: (messages: Payload[]) => Promise<unknown>): Promise<void> {
  const loop = async () => {
    for (;;) {
      const n = run.claim(batched ? BATCH : 1);
      if (n === 0) return;
      const base = run.enqueued;
      const messages = Array.from({ length: n }, (_, i) => payload(base + i));
      try {
        await enqueue(messages);
      } catch (error) {
        if (!run.stopped) run.finish(`enqueue failed: ${error instanceof Error ? error.message : String(error)}`);
        return;
      }
      run.enqueued += n;
    }
  };
  await Promise.all(Array.from({ length: count }, loop));
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Waits until `settled()` or `ms` elapse, checking every `everyMs`. */
export async function until(settled: () => boolean | Promise<boolean>, ms: number, everyMs = 10): Promise<boolean> {
  const deadline = performance.now() + ms;
  for (;;) {
    if (await settled()) return true;
    if (performance.now() >= deadline) return false;
    await sleep(everyMs);
  }
}

/** Waits for `work` but at most `ms`; its errors are ignored (used for clean-up). */
export async function bounded(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([work.then(() => true, () => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** One engine's session: the four variants run on it one after the other. */
export interface PeerSession {
  /** Runs one variant (a fresh queue each time) and cleans up after it. */
  run(variant: Variant, bounds: Bounds): Promise<RunResult>;
  close(): Promise<void>;
}

export type Opened = { readonly session: PeerSession; readonly durability: string } | { readonly skipped: string };
