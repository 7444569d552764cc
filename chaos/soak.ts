/**
 * Soak: a fixed open-loop request rate (half `POST /submit` of echo jobs, half
 * `GET /status/{id}` of a recently accepted job) for a bounded time. The run after a
 * warm-up is cut into windows; per window it takes the p99 latency (from each request's due
 * time, so queueing is not hidden) and the server's peak RSS (VmRSS from /proc/<pid>/status,
 * sampled every 250 ms). It reports the drift (last window over first) and fails when
 * either grows without bound by the rule in `stats.ts` (`unboundedGrowth`: the last third's
 * median more than 2x the first third's, the thirds strictly increasing, a rising trend
 * across the windows (Kendall's tau >= 0.5), and more than an absolute floor: 50 ms of
 * p99, 64 MiB of RSS). CPU pressure per window is reported next to it: a noisy neighbour
 * inflates p99 without any fault of the server. It also fails on any 5xx, transport error,
 * unexpected status or shed request, and when the accepted jobs have not all completed
 * within a bounded drain after the load.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { storedRows } from './data-dir.js';
import { queueStats } from './http-client.js';
import { openLoop, type LoadRequest } from './open-loop.js';
import { pollUntil } from './poll.js';
import { seededRng } from './random.js';
import { firstFew, ScenarioLog, type ScenarioResult } from './report.js';
import { mib, ms, percentile, unboundedGrowth } from './stats.js';
import { startSpool, type SpoolProcess } from './spool-process.js';

export interface SoakOptions {
  /** Requests per second (submits and status reads together). */
  readonly rate: number;
  readonly durationMs: number;
  /** Windows the measured part is cut into (at least 3). */
  readonly windows: number;
  /** Load that runs before the first window and is not measured (JIT, caches). */
  readonly warmupMs: number;
  /** Bound on the wait for the accepted jobs to complete after the load. */
  readonly drainTimeoutMs: number;
  readonly seed: number;
}

const P99_FLOOR_MS = 50;
const RSS_FLOOR_BYTES = 64 * 1024 * 1024;
const RECENT = 1_000;

/** Microseconds some runnable task waited for a CPU since boot (`/proc/pressure/cpu`); NaN when unavailable. */
function cpuStallMicros(): number {
  try {
    const match = /^some .*total=(\d+)/m.exec(readFileSync('/proc/pressure/cpu', 'utf8'));
    return match === null ? Number.NaN : Number(match[1]);
  } catch {
    return Number.NaN;
  }
}

export async function soak(options: SoakOptions): Promise<ScenarioResult> {
  const log = new ScenarioLog('soak');
  const rng = seededRng(options.seed);
  const dataDir = mkdtempSync(join(tmpdir(), 'spool-chaos-soak-'));
  let server: SpoolProcess | undefined;
  let sampler: NodeJS.Timeout | undefined;
  try {
    server = await startSpool(dataDir, { SPOOL_JOBS_VISIBILITY_SECONDS: '30' });
    const live = server;
    const recent: string[] = [];
    let accepted = 0;
    const statuses = new Map<number, number>();
    const unexpected: string[] = [];
    const rss: Array<{ t: number; bytes: number; stall: number }> = [];
    const t0 = performance.now();
    sampler = setInterval(() => rss.push({ t: performance.now() - t0, bytes: live.rssBytes(), stall: cpuStallMicros() }), 250);

    const make = (i: number): LoadRequest => {
      if (i % 2 === 0) return { method: 'POST', path: '/submit', body: JSON.stringify({ task: 'echo', data: { i } }) };
      return recent.length === 0 ? { method: 'GET', path: '/health' } : { method: 'GET', path: `/status/${rng.pick(recent)}` };
    };
    const onResponse = (i: number, status: number, body: string) => {
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
      const expected = i % 2 === 0 ? 202 : 200;
      if (status !== expected) {
        if (unexpected.length < 5) unexpected.push(`${status} ${body.slice(0, 120)}`);
        return;
      }
      if (i % 2 !== 0) return;
      accepted++;
      const id = (JSON.parse(body) as { jobId: string }).jobId;
      if (recent.length < RECENT) recent.push(id);
      else recent[rng.int(RECENT)] = id;
    };
    const { samples, maxSendLagMs } = await openLoop({ url: live.url, rate: options.rate, durationMs: options.durationMs, make, onResponse });
    clearInterval(sampler);

    // Per window: p99 of the requests due in it, peak RSS sampled in it.
    const windowMs = (options.durationMs - options.warmupMs) / options.windows;
    const windowOf = (tMs: number) => Math.floor((tMs - options.warmupMs) / windowMs);
    const p99s: number[] = [];
    const rssPeaks: number[] = [];
    // Share of each window during which some task on the machine waited for a CPU: context for the p99.
    const pressure: number[] = [];
    for (let w = 0; w < options.windows; w++) {
      const lat = samples.filter((s) => s.status > 0 && windowOf(s.dueMs) === w).map((s) => s.latencyMs);
      p99s.push(percentile(lat, 99));
      const inWindow = rss.filter((r) => windowOf(r.t) === w);
      rssPeaks.push(Math.max(0, ...inWindow.map((r) => r.bytes)));
      const [a, b] = [inWindow[0], inWindow[inWindow.length - 1]];
      pressure.push(a === undefined || b === undefined || b.t === a.t ? Number.NaN : (b.stall - a.stall) / 1000 / (b.t - a.t));
    }
    const p99Growth = unboundedGrowth(p99s, P99_FLOOR_MS);
    const rssGrowth = unboundedGrowth(rssPeaks, RSS_FLOOR_BYTES);
    const transport = samples.filter((s) => s.status === 0).length;
    const shed = samples.filter((s) => s.status === -1).length;
    const fivexx = samples.filter((s) => s.status >= 500).length;
    const wrong = samples.filter((s) => s.status > 0).length - [...statuses].filter(([s]) => s === 200 || s === 202).reduce((a, [, n]) => a + n, 0);
    const allLat = samples.filter((s) => s.status > 0).map((s) => s.latencyMs);

    // Drain: every accepted job completes (bounded).
    const drained = await pollUntil(
      () => queueStats(live.url, 'jobs'),
      (q) => q.visible + q.inFlight + q.delayed === 0,
      Date.now() + options.drainTimeoutMs,
      500,
    );
    const rows = storedRows(dataDir);
    const completed = rows.jobStatuses['completed'] ?? 0;

    Object.assign(log.counts, {
      requests: samples.length,
      accepted,
      completed,
      p50Ms: percentile(allLat, 50),
      p99Ms: percentile(allLat, 99),
      p99FirstMs: p99s[0] ?? Number.NaN,
      p99LastMs: p99s[p99s.length - 1] ?? Number.NaN,
      p99Drift: p99Growth.drift,
      rssFirstMiB: (rssPeaks[0] ?? 0) / 1024 / 1024,
      rssLastMiB: (rssPeaks[rssPeaks.length - 1] ?? 0) / 1024 / 1024,
      rssDrift: rssGrowth.drift,
      errors: transport + shed + wrong,
    });
    log.check('no 5xx, no transport error, no unexpected status', fivexx === 0 && transport === 0 && wrong === 0, `5xx ${fivexx}, transport errors ${transport}, unexpected ${wrong}${unexpected.length > 0 ? `: ${firstFew(unexpected)}` : ''}`);
    log.check('the server kept up (no request shed at 2,000 outstanding)', shed === 0, `shed ${shed}, generator lag max ${ms(maxSendLagMs)}`);
    log.check(
      'p99 latency does not grow without bound',
      !p99Growth.unbounded,
      `thirds ${ms(p99Growth.firstThird)} / ${ms(p99Growth.middleThird)} / ${ms(p99Growth.lastThird)}, trend ${p99Growth.trend.toFixed(2)}, drift x${p99Growth.drift.toFixed(2)}`,
    );
    log.check(
      'server RSS does not grow without bound',
      !rssGrowth.unbounded,
      `thirds ${mib(rssGrowth.firstThird)} / ${mib(rssGrowth.middleThird)} / ${mib(rssGrowth.lastThird)}, trend ${rssGrowth.trend.toFixed(2)}, drift x${rssGrowth.drift.toFixed(2)}`,
    );
    log.check('every accepted job completed after the load', drained.met && completed === accepted && rows.jobs === accepted, `${completed} completed of ${accepted} accepted (${rows.jobs} job records)${drained.met ? '' : `, queue not drained within ${options.drainTimeoutMs} ms`}`);
    log.notes.push(
      `seed ${options.seed}; ${options.rate} req/s for ${(options.durationMs / 1000).toFixed(0)} s (warm-up ${(options.warmupMs / 1000).toFixed(0)} s, ${options.windows} windows of ${(windowMs / 1000).toFixed(1)} s)`,
      `p99 per window (ms): ${p99s.map((v) => v.toFixed(1)).join(' ')}`,
      `peak RSS per window (MiB): ${rssPeaks.map((v) => (v / 1024 / 1024).toFixed(0)).join(' ')}`,
      `CPU pressure per window (% of time some task waited for a CPU; other load on the machine inflates p99): ${pressure.map((v) => (Number.isNaN(v) ? '-' : `${(v * 100).toFixed(0)}%`)).join(' ')}`,
    );
  } catch (error) {
    log.aborted(error);
  } finally {
    if (sampler !== undefined) clearInterval(sampler);
    if (server !== undefined) await server.stop(5_000);
  }
  if (log.allOk()) rmSync(dataDir, { recursive: true, force: true });
  else log.notes.push(`data dir kept for inspection: ${dataDir}`);
  return log.result();
}
