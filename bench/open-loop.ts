import { Agent, request } from 'node:http';

export interface OpenLoopRequest {
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly body?: string;
}

export interface OpenLoopOptions {
  readonly url: string;
  /** Requests per second, issued on a fixed schedule whatever the responses do. */
  readonly rate: number;
  readonly durationMs: number;
  /** The i-th request (0-based). */
  readonly make: (i: number) => OpenLoopRequest;
  readonly onResponse?: (status: number, body: string) => void;
  /** Requests still unanswered this long after the schedule ends count as errors. */
  readonly drainTimeoutMs?: number;
}

export interface OpenLoopResult {
  /** From each request's scheduled send time to its response's end, ms (2xx only). */
  readonly latencies: number[];
  /** From the actual send to the response's end, ms (2xx only). */
  readonly serviceTimes: number[];
  readonly ok: number;
  readonly non2xx: number;
  readonly errors: number;
  readonly scheduled: number;
  /** Requests actually sent per second (over the sending period). */
  readonly sendRate: number;
  /** From the first send to the last response, ms. */
  readonly elapsedMs: number;
  /** Largest number of requests outstanding at once. */
  readonly maxOutstanding: number;
  /** Largest delay between a request's scheduled time and its actual send, ms (generator lag). */
  readonly maxSendLagMs: number;
}

/**
 * An open-loop load generator: request i is due at start + i/rate, sent then (on a new
 * or idle keep-alive connection) even if earlier ones are still waiting, and timed from
 * when it was due, so a slow server cannot slow the arrivals down and hide its own
 * queueing (no coordinated omission). Bounded by count (rate x duration) and time.
 */
export async function openLoop(options: OpenLoopOptions): Promise<OpenLoopResult> {
  const target = new URL(options.url);
  const agent = new Agent({ keepAlive: true, maxSockets: 1024, scheduling: 'lifo' });
  const total = Math.max(1, Math.round((options.rate * options.durationMs) / 1000));
  const interval = 1000 / options.rate;
  const latencies: number[] = [];
  const serviceTimes: number[] = [];
  let ok = 0;
  let non2xx = 0;
  let errors = 0;
  let issued = 0;
  let finished = 0;
  let outstanding = 0;
  let maxOutstanding = 0;
  let maxSendLagMs = 0;
  let lastSentAt = 0;
  const inFlight = new Set<ReturnType<typeof request>>();

  let done!: () => void;
  const allDone = new Promise<void>((resolve) => (done = resolve));
  const complete = () => {
    finished++;
    outstanding--;
    if (issued === total && finished === total) done();
  };

  const send = (i: number, due: number) => {
    const spec = options.make(i);
    const sentAt = performance.now();
    lastSentAt = sentAt;
    maxSendLagMs = Math.max(maxSendLagMs, sentAt - due);
    outstanding++;
    maxOutstanding = Math.max(maxOutstanding, outstanding);
    const headers: Record<string, string | number> = { accept: 'application/json' };
    if (spec.body !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = Buffer.byteLength(spec.body);
    }
    const req = request({ agent, host: target.hostname, port: target.port, method: spec.method, path: spec.path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        inFlight.delete(req);
        const end = performance.now();
        const status = res.statusCode ?? 0;
        if (status >= 200 && status < 300) {
          ok++;
          latencies.push(end - due);
          serviceTimes.push(end - sentAt);
        } else non2xx++;
        options.onResponse?.(status, Buffer.concat(chunks).toString('utf8'));
        complete();
      });
      res.on('error', () => undefined);
    });
    req.on('error', () => {
      if (!inFlight.delete(req)) return;
      errors++;
      complete();
    });
    inFlight.add(req);
    req.end(spec.body);
  };

  const start = performance.now();
  // A 1 ms tick sends every request that has fallen due, each timed from its own due time.
  const ticker = setInterval(() => {
    const now = performance.now();
    while (issued < total && start + issued * interval <= now) {
      const i = issued++;
      send(i, start + i * interval);
    }
    if (issued === total) {
      clearInterval(ticker);
      if (finished === total) done();
    }
  }, 1);
  const drainTimeoutMs = options.drainTimeoutMs ?? 10_000;
  const hardStop = setTimeout(() => {
    clearInterval(ticker);
    // Unsent requests are not counted; unanswered ones are errors.
    for (const req of inFlight) {
      inFlight.delete(req);
      req.destroy();
      errors++;
    }
    done();
  }, options.durationMs + drainTimeoutMs);
  await allDone;
  clearTimeout(hardStop);
  clearInterval(ticker);
  agent.destroy();
  const sendRate = issued === 0 ? 0 : (issued * 1000) / (lastSentAt - start + interval);
  return { latencies, serviceTimes, ok, non2xx, errors, scheduled: issued, sendRate, elapsedMs: performance.now() - start, maxOutstanding, maxSendLagMs };
}
