import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ProbeSnapshot } from './probe.js';

/** Spool (`src/runtime/local/main.ts`) running in its own process on a temp data dir. */
export interface ChildServer {
  readonly pid: number;
  readonly url: string;
  readonly dataDir: string;
  /** VmRSS once it was listening, in bytes. */
  readonly startupRss: number;
  /** Highest VmRSS seen by the 100 ms sampler, in bytes. */
  peakSampledRss(): number;
  /** Names the benchmark phase now running, for `phasePeaks`. */
  markPhase(name: string): void;
  /** Highest sampled VmRSS per phase, in bytes, in phase order. */
  phasePeaks(): Array<[string, number]>;
  /** How the child ended if it ended before `stop` was called (undefined while running or after `stop`). */
  unexpectedExit(): string | undefined;
  /** VmHWM (the kernel's peak resident set) right now, in bytes; 0 when unavailable. */
  highWaterMark(): number;
  /** CPU time used so far (user + system), in ms: the whole process and its main (JavaScript) thread. */
  cpuTime(): { processMs: number; mainThreadMs: number };
  /**
   * With `probe`: asks the child for a snapshot (SIGUSR2) and returns it: cumulative commit
   * timings, event-loop delay since the previous snapshot. Undefined without the probe.
   */
  probe(): Promise<ProbeSnapshot | undefined>;
  /** Log lines (warn and above) the server wrote so far. */
  logLines(): number;
  /** The last few KB of its stderr. */
  stderrTail(): string;
  /** SIGTERM (clean shutdown, so a CPU profile gets written), SIGKILL after `graceMs`; deletes the data dir. */
  stop(graceMs?: number): Promise<{ exitCode: number | null; signal: NodeJS.Signals | null; killed: boolean }>;
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

/** Kills (by PID) every child still running when the benchmark process exits, however it exits. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of live) {
      if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
        try {
          process.kill(child.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
  });
}

/** utime + stime from a /proc stat file, in ms (0 when unavailable). */
function cpuMs(path: string): number {
  try {
    const text = readFileSync(path, 'utf8');
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return 0;
  }
}

// USER_HZ: 100 on every mainstream Linux build.
const CLOCK_TICKS = 100;

function statusField(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match === null ? 0 : Number(match[1]) * 1024;
  } catch {
    return 0;
  }
}

/**
 * Starts `node --import tsx src/runtime/local/main.ts` with PORT=0 (a free port, read back
 * from its startup line), HOST=127.0.0.1 and LOG_LEVEL=warn.
 */
export async function startChildServer(options: {
  root: string;
  env?: Record<string, string>;
  cpuProfileDir?: string;
  /** Also load bench/probe.ts (commit timings, event-loop delay). */
  probe?: boolean;
  startTimeoutMs?: number;
}): Promise<ChildServer> {
  installExitHook();
  const dataDir = mkdtempSync(join(tmpdir(), 'spool-bench-server-'));
  const probeFile = options.probe === true ? join(mkdtempSync(join(tmpdir(), 'spool-bench-probe-')), 'probe.json') : undefined;
  const nodeArgs = ['--import', 'tsx'];
  if (probeFile !== undefined) nodeArgs.push('--import', './bench/probe.ts');
  if (options.cpuProfileDir !== undefined) nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${options.cpuProfileDir}`);
  const child = spawn(process.execPath, [...nodeArgs, 'src/runtime/local/main.ts'], {
    cwd: options.root,
    env: {
      ...process.env,
      PORT: '0',
      HOST: '127.0.0.1',
      SPOOL_DATA_DIR: dataDir,
      LOG_LEVEL: 'warn',
      SPOOL_SHUTDOWN_TIMEOUT_MS: '5000',
      ...(probeFile === undefined ? {} : { SPOOL_BENCH_PROBE_FILE: probeFile }),
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  const pid = child.pid;
  if (pid === undefined) throw new Error('could not start the server process');

  let stderr = '';
  let stdout = '';
  let warnings = 0;
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-8_000);
  });
  const exited = new Promise<{ exitCode: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (exitCode, signal) => {
      live.delete(child);
      resolve({ exitCode, signal });
    }),
  );

  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start in time; stderr: ${stderr}`)), options.startTimeoutMs ?? 30_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      const text = chunk.toString();
      // Log lines at warn and above are JSON; count them (they cost the server time too).
      warnings += text.split('\n').filter((l) => l.startsWith('{')).length;
      if (stdout.length < 8_000) stdout += text;
      const match = /Spool listening on (http:\/\/\S+)/.exec(stdout);
      if (match !== null) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
    void exited.then(({ exitCode, signal }) => {
      clearTimeout(timer);
      reject(new Error(`server exited during startup (code ${exitCode}, signal ${signal}); stderr: ${stderr}`));
    });
  }).catch((error: unknown) => {
    process.kill(pid, 'SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  });

  const startupRss = statusField(pid, 'VmRSS');
  let stopping = false;
  let early: string | undefined;
  const startedAt = performance.now();
  void exited.then(({ exitCode, signal }) => {
    if (stopping) return;
    const how = exitCode === 0 ? ' (a clean shutdown: it received SIGTERM or SIGINT from outside the benchmark)' : '';
    early = `server child ${pid} exited unexpectedly ${((performance.now() - startedAt) / 1000).toFixed(1)} s after start, code ${exitCode}, signal ${signal}${how}; stderr: ${stderr.slice(-1_000) || '(empty)'}`;
    process.stderr.write(`[bench] ${early}\n`);
  });
  let probeSeq = 0;
  let peak = startupRss;
  let phase = 'startup';
  const peaks = new Map<string, number>([[phase, startupRss]]);
  const sampler = setInterval(() => {
    const rss = statusField(pid, 'VmRSS');
    peak = Math.max(peak, rss);
    peaks.set(phase, Math.max(peaks.get(phase) ?? 0, rss));
  }, 100);
  sampler.unref();

  const server: ChildServer = {
    pid,
    url,
    dataDir,
    startupRss,
    peakSampledRss: () => peak,
    markPhase: (name) => {
      phase = name;
    },
    phasePeaks: () => [...peaks.entries()],
    unexpectedExit: () => early,
    highWaterMark: () => statusField(pid, 'VmHWM'),
    cpuTime: () => ({ processMs: cpuMs(`/proc/${pid}/stat`), mainThreadMs: cpuMs(`/proc/${pid}/task/${pid}/stat`) }),
    probe: async () => {
      // Without the probe, SIGUSR2 would terminate the child.
      if (probeFile === undefined || child.exitCode !== null) return undefined;
      process.kill(pid, 'SIGUSR2');
      const until = performance.now() + 2_000;
      while (performance.now() < until) {
        try {
          const snapshot = JSON.parse(readFileSync(probeFile, 'utf8')) as ProbeSnapshot;
          if (snapshot.seq > probeSeq) {
            probeSeq = snapshot.seq;
            return snapshot;
          }
        } catch {
          // not written yet
        }
        await new Promise((r) => setTimeout(r, 10));
      }
      return undefined;
    },
    logLines: () => warnings,
    stderrTail: () => stderr,
    async stop(graceMs = 15_000) {
      stopping = early === undefined;
      clearInterval(sampler);
      let killed = false;
      if (child.exitCode === null && child.signalCode === null) {
        process.kill(pid, 'SIGTERM');
        const timer = setTimeout(() => {
          killed = true;
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            // already gone
          }
        }, graceMs);
        await exited;
        clearTimeout(timer);
      }
      const outcome = await exited;
      rmSync(dataDir, { recursive: true, force: true });
      if (probeFile !== undefined) rmSync(join(probeFile, '..'), { recursive: true, force: true });
      return { ...outcome, killed };
    },
  };
  return server;
}

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;

/** One line on what the probe saw between two snapshots (empty when there is no probe). */
export function describeProbe(before: ProbeSnapshot | undefined, after: ProbeSnapshot | undefined, elapsedMs: number): string[] {
  if (before === undefined || after === undefined || elapsedMs <= 0) return [];
  const commits = after.commits - before.commits;
  const blocked = after.commitMs - before.commitMs;
  return [
    `probe: ${((commits * 1000) / elapsedMs).toFixed(0)} commits/s, COMMIT (fsync) blocked the event loop ${((blocked / elapsedMs) * 100).toFixed(0)}% ` +
      `of the time (mean ${(blocked / Math.max(1, commits)).toFixed(2)} ms per commit); event-loop delay p50 ${after.loopDelay.p50.toFixed(1)} ms, ` +
      `p99 ${after.loopDelay.p99.toFixed(1)} ms, max ${after.loopDelay.max.toFixed(1)} ms; memory at the end: rss ${mb(after.memory.rss)}, ` +
      `V8 heap used ${mb(after.memory.heapUsed)} of ${mb(after.memory.heapTotal)}, external ${mb(after.memory.external)}, array buffers ${mb(after.memory.arrayBuffers)}`,
  ];
}
