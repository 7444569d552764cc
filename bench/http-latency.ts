import { describeProbe, type ChildServer } from './child-server.js';
import type { ProbeSnapshot } from './probe.js';
import { openLoop, type OpenLoopResult } from './open-loop.js';
import type { Figure, Mode, Section } from './report.js';
import { waitForJobsDrained } from './spool-client.js';
import { fmt, ms, rate, summarize } from './stats.js';

const RATES = [500, 1_000, 2_000] as const;
const POST_P99_TARGET_MS = 10;
const POST_TARGET_RATE = 1_000;
const GET_P99_TARGET_MS = 5;

function figure(id: string, label: string, r: OpenLoopResult, target: { p99: number } | undefined, cpuMs: number, probe: string[]): Figure {
  const s = summarize(r.latencies);
  const service = summarize(r.serviceTimes);
  const clean = r.errors === 0 && r.non2xx === 0 && r.ok > 0;
  return {
    id,
    name: label,
    value: `p50 ${ms(s.p50)}, p99 ${ms(s.p99)}, max ${ms(s.max)}`,
    ...(target === undefined ? {} : { target: `p99 <= ${target.p99} ms`, met: clean && s.p99 <= target.p99 }),
    details: [
      `${fmt(r.ok)} ok of ${fmt(r.scheduled)} sent at ${fmt(r.sendRate)}/s; answered at ${fmt(rate(r.ok, r.elapsedMs))}/s; non-2xx ${r.non2xx}, errors ${r.errors}`,
      `service time (from actual send) p50 ${ms(service.p50)}, p99 ${ms(service.p99)}, max ${ms(service.max)}`,
      `max outstanding ${r.maxOutstanding}, max generator lag ${ms(r.maxSendLagMs)}; server main-thread CPU ${fmt(cpuMs / Math.max(1, r.ok), 3)} ms per request` +
        (label.startsWith('POST') ? ' (includes running the job to completion)' : ''),
      ...probe,
    ],
  };
}

async function probeStart(server: ChildServer): Promise<[ProbeSnapshot | undefined, number]> {
  return [await server.probe(), performance.now()];
}

async function probeEnd(server: ChildServer, before: ProbeSnapshot | undefined, t0: number): Promise<string[]> {
  return describeProbe(before, await server.probe(), performance.now() - t0);
}

/**
 * Figure 4: latency of `POST /submit` and `GET /status/{id}` at fixed arrival rates,
 * open loop (see open-loop.ts), against the same server child as figure 3.
 */
export async function httpLatency(server: ChildServer, mode: Mode, knownIds: string[]): Promise<Section> {
  const durationMs = mode === 'quick' ? 3_000 : 15_000;
  const figures: Figure[] = [];
  const ids = [...knownIds];
  const idle = async () => {
    // Each run starts with no job backlog, so earlier runs' work does not spill over.
    await waitForJobsDrained(server.url, 120_000);
  };

  // Warm-up (JIT in both processes, connections): not reported.
  await idle();
  server.markPhase('4-warm-up');
  await openLoop({ url: server.url, rate: 200, durationMs: 1_000, make: (i) => ({ method: 'POST', path: '/submit', body: JSON.stringify({ task: 'echo', data: { i } }) }) });

  let n = 0;
  for (const [index, r] of RATES.entries()) {
    await idle();
    server.markPhase(`4${String.fromCharCode(97 + index)}`);
    const cpu0 = server.cpuTime().mainThreadMs;
    const [probe0, t0] = await probeStart(server);
    const result = await openLoop({
      url: server.url,
      rate: r,
      durationMs,
      make: () => ({ method: 'POST', path: '/submit', body: JSON.stringify({ task: 'echo', data: { i: n++ } }) }),
      onResponse: (status, body) => {
        if (status === 202 && ids.length < 200_000) ids.push((JSON.parse(body) as { jobId: string }).jobId);
      },
    });
    await idle();
    const cpu = server.cpuTime().mainThreadMs - cpu0;
    figures.push(figure(`4${String.fromCharCode(97 + index)}`, `POST /submit at ${fmt(r)}/s`, result, r === POST_TARGET_RATE ? { p99: POST_P99_TARGET_MS } : undefined, cpu, await probeEnd(server, probe0, t0)));
  }
  if (ids.length === 0) throw new Error('no job ids to read back');
  for (const [index, r] of RATES.entries()) {
    await idle();
    server.markPhase(`4${String.fromCharCode(97 + RATES.length + index)}`);
    const cpu0 = server.cpuTime().mainThreadMs;
    const [probe0, t0] = await probeStart(server);
    const result = await openLoop({
      url: server.url,
      rate: r,
      durationMs,
      make: () => ({ method: 'GET', path: `/status/${ids[Math.floor(Math.random() * ids.length)]!}` }),
    });
    const cpu = server.cpuTime().mainThreadMs - cpu0;
    figures.push(figure(`4${String.fromCharCode(97 + RATES.length + index)}`, `GET /status/{id} at ${fmt(r)}/s`, result, { p99: GET_P99_TARGET_MS }, cpu, await probeEnd(server, probe0, t0)));
  }
  return {
    title: '4. Latency at fixed request rates',
    method: [
      `Against the same server child as figure 3 (its database then holds ${fmt(knownIds.length)}+ jobs). The load`,
      'generator is open loop (`bench/open-loop.ts`, node:http keep-alive agent): request i is due at start + i/rate',
      'and is sent then, on another connection if the earlier ones are still busy, so a slow response cannot delay',
      'later arrivals; latency is measured from the due time to the end of the response, so queueing in the',
      'generator or server counts (no coordinated omission). Each run lasts',
      `${durationMs / 1000} s (count bound rate x duration, time bound duration + 10 s) and starts once the jobs queue is`,
      'empty. `GET /status/{id}` reads random ids of jobs accepted earlier. The details add the service time',
      '(from the actual send) and the generator\'s own lag.',
      '',
      "autocannon's `overallRate` was not used for this figure: it is not open loop. Each connection sends",
      'back to back until it has used its share of the per-second budget, then pauses until the next 1 s tick',
      '(`node_modules/autocannon/lib/httpClient.js`, `_doRequest` and `rateInterval`), so the requests of each',
      'second arrive as a burst at its start and queue behind each other.',
    ].join('\n'),
    figures,
  };
}
