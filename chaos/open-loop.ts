import { Agent, request as httpRequest } from 'node:http';

export interface LoadRequest {
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly body?: string;
}

/** One request as the generator saw it. */
export interface Sample {
  /** When it was due, ms since the start of the schedule. */
  readonly dueMs: number;
  /** From when it was due to the end of its response, ms (NaN when it got none). */
  readonly latencyMs: number;
  /** HTTP status, or 0 for a transport error or timeout, -1 when shed (too many outstanding). */
  readonly status: number;
}

export interface OpenLoopOptions {
  readonly url: string;
  /** Requests per second, on a fixed schedule whatever the responses do. */
  readonly rate: number;
  readonly durationMs: number;
  /** The i-th request (0-based). */
  readonly make: (i: number) => LoadRequest;
  readonly onResponse?: (i: number, status: number, body: string) => void;
  /** At most this many requests outstanding; a request due beyond it is shed (counted, not sent). */
  readonly maxOutstanding?: number;
  readonly requestTimeoutMs?: number;
}

export interface OpenLoopResult {
  readonly samples: Sample[];
  /** Largest delay between a request's due time and its send, ms (the generator's own lag). */
  readonly maxSendLagMs: number;
}

/**
 * An open-loop load generator: request i is due at start + i/rate and is sent then, even
 * if earlier ones are still waiting, and its latency counts from when it was due (so a
 * slow server cannot slow the arrivals down and hide its queueing). Bounded in count
 * (rate x duration), in time (duration + request timeout) and in outstanding requests.
 */
export async function openLoop(options: OpenLoopOptions): Promise<OpenLoopResult> {
  const target = new URL(options.url);
  const agent = new Agent({ keepAlive: true, maxSockets: 512 });
  const total = Math.max(1, Math.round((options.rate * options.durationMs) / 1000));
  const interval = 1000 / options.rate;
  const maxOutstanding = options.maxOutstanding ?? 2_000;
  const timeoutMs = options.requestTimeoutMs ?? 10_000;
  const samples: Sample[] = [];
  let outstanding = 0;
  let next = 0;
  let maxSendLagMs = 0;
  const start = performance.now();
  const inFlight = new Set<Promise<void>>();

  const send = (i: number, dueMs: number): Promise<void> => {
    const req = options.make(i);
    outstanding++;
    return new Promise<void>((resolve) => {
      let settled = false;
      const finish = (status: number, body: string) => {
        if (settled) return;
        settled = true;
        outstanding--;
        samples.push({ dueMs, latencyMs: status === 0 ? Number.NaN : performance.now() - start - dueMs, status });
        if (status > 0) options.onResponse?.(i, status, body);
        resolve();
      };
      const headers: Record<string, string> = req.body === undefined ? {} : { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(req.body)) };
      const r = httpRequest({ host: target.hostname, port: target.port, method: req.method, path: req.path, agent, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => finish(res.statusCode ?? 0, Buffer.concat(chunks).toString()));
        res.on('error', () => finish(0, ''));
      });
      r.setTimeout(timeoutMs, () => r.destroy(new Error('timeout')));
      r.on('error', () => finish(0, ''));
      r.end(req.body);
    });
  };

  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now() - start;
      while (next < total && next * interval <= now) {
        const dueMs = next * interval;
        maxSendLagMs = Math.max(maxSendLagMs, now - dueMs);
        if (outstanding >= maxOutstanding) samples.push({ dueMs, latencyMs: Number.NaN, status: -1 });
        else {
          const p = send(next, dueMs);
          inFlight.add(p);
          void p.then(() => inFlight.delete(p));
        }
        next++;
      }
      if (next >= total) resolve();
      else setTimeout(tick, Math.max(0, Math.min(5, next * interval - now)));
    };
    tick();
  });
  await Promise.all([...inFlight]);
  agent.destroy();
  return { samples, maxSendLagMs };
}
