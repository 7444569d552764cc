import { spawn } from 'node:child_process';
import { createServer } from 'node:net';

/** A running moto server, reachable at `endpoint` until `stop()`. */
export interface MotoServer {
  readonly endpoint: string;
  stop(): Promise<void>;
}

const HOST = '127.0.0.1';
const STARTUP_TIMEOUT_MS = 20_000;

/**
 * Starts `python3 -m moto.server` on a free loopback port and resolves once it answers
 * over HTTP. One per test file: moto keeps all state in memory, so a server of its own
 * keeps each file's resources apart.
 */
export async function startMoto(): Promise<MotoServer> {
  const port = await freePort();
  const child = spawn('python3', ['-m', 'moto.server', '-H', HOST, '-p', String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    // Keep only the tail: moto logs every request here.
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const endpoint = `http://${HOST}:${port}`;
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    // A server stuck in a request may ignore SIGTERM; never leave one behind.
    const stubborn = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(stubborn);
  };
  try {
    await waitUntilAnswering(endpoint, () => child.exitCode !== null);
  } catch (error) {
    await stop();
    throw new Error(`moto did not start on ${endpoint}: ${String(error)}\n${stderr}`);
  }
  return { endpoint, stop };
}

/** Asks the OS for an unused port by binding to port 0 on loopback, then frees it for moto. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, HOST, () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

async function waitUntilAnswering(endpoint: string, hasExited: () => boolean): Promise<void> {
  const until = Date.now() + STARTUP_TIMEOUT_MS;
  for (;;) {
    if (hasExited()) throw new Error('moto exited');
    try {
      // moto's own dashboard API answers once the server is ready.
      const response = await fetch(`${endpoint}/moto-api/`, { signal: AbortSignal.timeout(1000) });
      await response.body?.cancel();
      return;
    } catch (error) {
      if (Date.now() > until) throw error;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
