import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The repository root: the server is started from here, as `npm start` would. */
export const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** How a server child ended. */
export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** One Spool server (`src/runtime/local/main.ts`) in a child process, on 127.0.0.1. */
export interface SpoolProcess {
  readonly pid: number;
  readonly url: string;
  readonly dataDir: string;
  readonly exited: Promise<Exit>;
  /** True once the process has exited, for whatever reason. */
  hasExited(): boolean;
  /** VmRSS from /proc/<pid>/status, in bytes (0 once gone). */
  rssBytes(): number;
  /** `kill -9` by PID; resolves once the process is gone. */
  kill9(): Promise<Exit>;
  /** SIGTERM by PID, SIGKILL after `graceMs`; resolves once the process is gone. */
  stop(graceMs?: number): Promise<Exit>;
  /** The last few KB of what it wrote to stdout and stderr. */
  outputTail(): string;
}

const live = new Map<number, ChildProcess>();
let hookInstalled = false;

function killByPid(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

/** SIGKILLs, by PID, every server child this process started that is still running. */
export function killAllSpools(): number {
  let n = 0;
  for (const [pid, child] of live) {
    if (child.exitCode === null && child.signalCode === null) {
      killByPid(pid, 'SIGKILL');
      n++;
    }
  }
  return n;
}

/** PIDs of the server children still running. */
export function liveSpoolPids(): number[] {
  return [...live.entries()].filter(([, c]) => c.exitCode === null && c.signalCode === null).map(([pid]) => pid);
}

function installExitHook(): void {
  if (hookInstalled) return;
  hookInstalled = true;
  // However this process ends (a thrown error, process.exit), no server child outlives it.
  process.on('exit', () => killAllSpools());
}

/** VmRSS of a process, in bytes; 0 when unavailable. */
export function rssOf(pid: number): number {
  try {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match === null ? 0 : Number(match[1]) * 1024;
  } catch {
    return 0;
  }
}

/**
 * Starts the server on `dataDir` with PORT=0 and HOST=127.0.0.1 and resolves once it
 * listens (its startup line names the URL). Rejects, after killing it, if it does not
 * listen within `startTimeoutMs` or listens anywhere but on loopback.
 */
export async function startSpool(dataDir: string, env: Record<string, string> = {}, startTimeoutMs = 30_000): Promise<SpoolProcess> {
  installExitHook();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/runtime/local/main.ts'], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'error', SPOOL_SHUTDOWN_TIMEOUT_MS: '3000', ...env, PORT: '0', HOST: '127.0.0.1', SPOOL_DATA_DIR: dataDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error('could not spawn the server');
  live.set(pid, child);
  let tail = '';
  let done = false;
  const keep = (chunk: Buffer) => {
    tail = (tail + chunk.toString()).slice(-8_000);
  };
  // Both pipes are always drained, so a chatty server never blocks on a full pipe.
  child.stderr!.on('data', keep);
  const exited = new Promise<Exit>((resolve) =>
    child.once('exit', (code, signal) => {
      done = true;
      live.delete(pid);
      resolve({ code, signal });
    }),
  );
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`server ${pid} did not listen within ${startTimeoutMs} ms: ${tail}`)), startTimeoutMs);
    child.stdout!.on('data', (chunk: Buffer) => {
      keep(chunk);
      if (out.length > 4_000) return;
      out += chunk.toString();
      const match = /listening on (http:\/\/\S+)/.exec(out);
      if (match === null) return;
      clearTimeout(timer);
      const where = new URL(match[1]!);
      if (where.hostname !== '127.0.0.1') reject(new Error(`server ${pid} listens on ${where.hostname}, not 127.0.0.1`));
      else resolve(match[1]!);
    });
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`server ${pid} exited (code ${code}, signal ${signal}) before listening: ${tail}`));
    });
  }).catch(async (error: unknown) => {
    killByPid(pid, 'SIGKILL');
    await exited;
    throw error;
  });

  return {
    pid,
    url,
    dataDir,
    exited,
    hasExited: () => done,
    rssBytes: () => (done ? 0 : rssOf(pid)),
    async kill9() {
      killByPid(pid, 'SIGKILL');
      return exited;
    },
    async stop(graceMs = 10_000) {
      if (!done) {
        killByPid(pid, 'SIGTERM');
        const timer = setTimeout(() => killByPid(pid, 'SIGKILL'), graceMs);
        await exited;
        clearTimeout(timer);
      }
      return exited;
    },
    outputTail: () => tail,
  };
}
