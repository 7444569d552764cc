/**
 * `npx tsx bench/e2e-cpu.ts [--jobs=15000] [--rounds=3] [--profile=DIR] [--latency] [--server-env=KEY=VALUE]`
 *
 * A repeatable CPU-cost measurement of the end-to-end path, for comparing changes on a
 * noisy machine: the server child (as in figure 3) gets a fixed number of `POST /submit`
 * echo jobs (autocannon, 64 connections, count bound --jobs, time bound 60 s) and the
 * benchmark waits until the jobs queue is drained. Per round it prints jobs/s, submit
 * latency, and the server's CPU per job: whole process, main thread, and the other threads
 * by name (libuv pool, GC, ...), read from /proc, so it does not depend on wall-clock noise.
 * --latency adds open-loop POST and GET runs at 1,000/s (3 s each, or --latency-ms). Does not write docs.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { startChildServer, type ChildServer } from './child-server.js';
import { openLoop } from './open-loop.js';
import { formatProfile, summarizeProfile } from './profile-summary.js';
import { waitForJobsDrained } from './spool-client.js';
import { fmt, mib, ms, percentile, rate, summarize } from './stats.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

interface Flags {
  jobs: number;
  rounds: number;
  profileDir: string | undefined;
  latency: boolean;
  latencyMs: number;
  probe: boolean;
  serverEnv: Record<string, string>;
}

function parseFlags(argv: readonly string[]): Flags {
  const flags: Flags = { jobs: 15_000, rounds: 3, profileDir: undefined, latency: false, latencyMs: 3_000, probe: false, serverEnv: {} };
  for (const arg of argv) {
    if (arg.startsWith('--jobs=')) flags.jobs = Number(arg.slice(7));
    else if (arg.startsWith('--rounds=')) flags.rounds = Number(arg.slice(9));
    else if (arg.startsWith('--profile=')) flags.profileDir = arg.slice(10);
    else if (arg === '--latency') flags.latency = true;
    else if (arg.startsWith('--latency-ms=')) flags.latencyMs = Number(arg.slice('--latency-ms='.length));
    else if (arg === '--probe') flags.probe = true;
    else if (/^--server-env=[A-Z_][A-Z0-9_]*=/.test(arg)) {
      const [key, ...value] = arg.slice('--server-env='.length).split('=');
      flags.serverEnv[key!] = value.join('=');
    } else throw new Error(`unknown flag ${arg}`);
  }
  if (!Number.isInteger(flags.jobs) || flags.jobs < 1 || flags.jobs > 200_000) throw new Error('--jobs must be 1..200000');
  if (!Number.isInteger(flags.rounds) || flags.rounds < 0 || flags.rounds > 20) throw new Error('--rounds must be 0..20');
  return flags;
}

/** CPU ms (user + system) per thread of `pid`, keyed by `tid name`. */
function threadCpu(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  let tids: string[] = [];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      const text = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = text.slice(text.indexOf('(') + 1, text.lastIndexOf(')'));
      const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
      out.set(tid === String(pid) ? 'main' : `${name}`, (out.get(tid === String(pid) ? 'main' : name) ?? 0) + (Number(fields[11]) + Number(fields[12])) * 10);
    } catch {
      // thread ended
    }
  }
  return out;
}

function diff(a: Map<string, number>, b: Map<string, number>): Map<string, number> {
  const out = new Map<string, number>();
  for (const [k, v] of b) out.set(k, v - (a.get(k) ?? 0));
  return out;
}

async function submitBurst(server: ChildServer, count: number, start: number): Promise<{ accepted: number; ids: string[]; latency: autocannon.Result['latency']; errors: number }> {
  let n = start;
  let accepted = 0;
  const ids: string[] = [];
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: server.url,
        connections: 64,
        amount: count,
        timeout: 30,
        requests: [
          {
            method: 'POST',
            path: '/submit',
            headers: { 'content-type': 'application/json' },
            setupRequest: (req) => ({ ...req, body: JSON.stringify({ task: 'echo', data: { i: n++ } }) }),
            onResponse: (status, body) => {
              if (status !== 202) return;
              accepted++;
              if (ids.length < 20_000) ids.push((JSON.parse(body) as { jobId: string }).jobId);
            },
          },
        ],
      },
      (error, res) => {
        clearTimeout(timer);
        if (error) reject(error instanceof Error ? error : new Error(String(error)));
        else resolve(res);
      },
    );
    const timer = setTimeout(() => instance.stop(), 60_000);
  });
  return { accepted, ids, latency: result.latency, errors: result.errors + result.non2xx };
}

async function main(): Promise<void> {
  const flags = parseFlags(process.argv.slice(2));
  const server = await startChildServer({ root, env: flags.serverEnv, probe: flags.probe, ...(flags.profileDir === undefined ? {} : { cpuProfileDir: flags.profileDir }) });
  process.stderr.write(`[e2e-cpu] server child pid ${server.pid}, startup RSS ${mib(server.startupRss)}\n`);
  try {
    // Warm-up (JIT, connections, SQLite pages): not reported.
    let ids = (await submitBurst(server, 2_000, 0)).ids;
    if ((await waitForJobsDrained(server.url, 60_000)) === undefined) throw new Error('warm-up did not drain');
    for (let round = 1; round <= flags.rounds; round++) {
      const probe0 = await server.probe();
      const threads0 = threadCpu(server.pid);
      const t0 = performance.now();
      const burst = await submitBurst(server, flags.jobs, round * 1_000_000);
      const submitted = performance.now();
      const drained = await waitForJobsDrained(server.url, 120_000, 100);
      const threads = diff(threads0, threadCpu(server.pid));
      const probe1 = await server.probe();
      ids = burst.ids;
      const total = [...threads.values()].reduce((s, v) => s + v, 0);
      const per = (v: number) => fmt(v / Math.max(1, burst.accepted), 3);
      const others = [...threads.entries()]
        .filter(([k]) => k !== 'main')
        .reduce((m, [k, v]) => m.set(k.replace(/\d+$/, 'N'), (m.get(k.replace(/\d+$/, 'N')) ?? 0) + v), new Map<string, number>());
      process.stdout.write(
        `round ${round}: ${fmt(burst.accepted)} jobs, ${drained === undefined ? 'NOT drained' : `${fmt(rate(burst.accepted, drained.at - t0))} jobs/s end to end`}, ` +
          `submits ${fmt(rate(burst.accepted, submitted - t0))}/s (p50 ${burst.latency.p50} ms, p99 ${burst.latency.p99} ms), errors ${burst.errors}; ` +
          `CPU ms/job: process ${per(total)}, main ${per(threads.get('main') ?? 0)}, ` +
          [...others.entries()].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${per(v)}`).join(', ') +
          `; peak RSS so far ${mib(Math.max(server.highWaterMark(), server.peakSampledRss()))}\n`,
      );
      if (probe0 !== undefined && probe1 !== undefined) {
        const commits = probe1.commits - probe0.commits;
        process.stdout.write(
          `  probe: ${fmt(commits)} commits (${fmt(burst.accepted / Math.max(1, commits), 2)} jobs per commit), COMMIT time ${fmt((probe1.commitMs - probe0.commitMs) / Math.max(1, burst.accepted), 3)} ms/job, ` +
            `max ${fmt(probe1.maxCommitMs, 1)} ms; event-loop delay p99 ${fmt(probe1.loopDelay.p99, 1)} ms, max ${fmt(probe1.loopDelay.max, 1)} ms; ` +
            `at the end rss ${mib(probe1.memory.rss)}, V8 heap ${mib(probe1.memory.heapUsed)} used of ${mib(probe1.memory.heapTotal)}, external ${mib(probe1.memory.external)}\n`,
        );
      }
    }
    if (flags.latency) {
      for (const kind of ['POST', 'GET'] as const) {
        await waitForJobsDrained(server.url, 60_000);
        const cpu0 = server.cpuTime().mainThreadMs;
        let i = 0;
        const r = await openLoop({
          url: server.url,
          rate: 1_000,
          durationMs: flags.latencyMs,
          make: () =>
            kind === 'POST'
              ? { method: 'POST', path: '/submit', body: JSON.stringify({ task: 'echo', data: { i: i++ } }) }
              : { method: 'GET', path: `/status/${ids[Math.floor(Math.random() * ids.length)]!}` },
        });
        await waitForJobsDrained(server.url, 60_000);
        const s = summarize(r.latencies);
        process.stdout.write(
          `${kind} at 1,000/s: p50 ${ms(s.p50)}, p99 ${ms(s.p99)}, p99.9 ${ms(percentile([...r.latencies].sort((a, b) => a - b), 99.9))}, max ${ms(s.max)}; ok ${r.ok}, non-2xx ${r.non2xx}, errors ${r.errors}; ` +
            `main-thread CPU ${fmt((server.cpuTime().mainThreadMs - cpu0) / Math.max(1, r.ok), 3)} ms/request\n`,
        );
      }
    }
    process.stdout.write(`peak RSS ${mib(Math.max(server.highWaterMark(), server.peakSampledRss()))} (startup ${mib(server.startupRss)}); phases: ${server.phasePeaks().map(([p, b]) => `${p} ${mib(b)}`).join(', ')}\n`);
    if (server.unexpectedExit() !== undefined) process.stdout.write(`${server.unexpectedExit()}\n`);
  } finally {
    const outcome = await server.stop();
    process.stderr.write(`[e2e-cpu] server child stopped (code ${outcome.exitCode}, signal ${outcome.signal})\n`);
  }
  if (flags.profileDir !== undefined) {
    // The main thread's profile is the largest file.
    const files = readdirSync(flags.profileDir).filter((f) => f.endsWith('.cpuprofile'));
    const main = files.map((f) => join(flags.profileDir!, f)).sort((a, b) => readFileSync(b).length - readFileSync(a).length)[0];
    if (main !== undefined) process.stdout.write(`\n${main}\n${formatProfile(summarizeProfile(main, 40))}\n`);
  }
}

main().then(
  () => process.exit(),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
