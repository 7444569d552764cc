import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config.js';
import { createEmbeddedPorts } from '../../src/runtime/embedded-ports.js';
import type { Ports } from '../../src/runtime/ports.js';
import { startLocalServer, type LocalServer, type LocalServerOptions } from '../../src/runtime/local/server.js';

export interface TestSpoolOptions extends LocalServerOptions {
  /** Replaces or wraps ports before the system starts (to observe or fail one of them). */
  readonly wrapPorts?: (ports: Ports) => Ports;
}

/** A Spool started in this process on a fresh data dir and a free loopback port. */
export interface TestSpool extends LocalServer {
  readonly dataDir: string;
  /** Stops the server and deletes its data dir. */
  dispose(): Promise<void>;
}

/**
 * Starts Spool for a test with fast retries (1 s visibility) unless `env` says otherwise.
 *
 * @example
 * const spool = await startTestSpool();
 * await fetch(`${spool.url}/health`);
 * await spool.dispose();
 */
export async function startTestSpool(env: Record<string, string> = {}, options: TestSpoolOptions = {}): Promise<TestSpool> {
  const dataDir = mkdtempSync(join(tmpdir(), 'spool-test-'));
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    SPOOL_DATA_DIR: dataDir,
    LOG_LEVEL: 'silent',
    SPOOL_JOBS_VISIBILITY_SECONDS: '2',
    SPOOL_ORDERS_VISIBILITY_SECONDS: '2',
    SPOOL_RETRY_BASE_SECONDS: '0',
    SPOOL_SHUTDOWN_TIMEOUT_MS: '2000',
    ...env,
  });
  const wrap = options.wrapPorts ?? ((ports: Ports) => ports);
  const server = await startLocalServer(config, (logger) => wrap(createEmbeddedPorts(config, logger)), options);
  return {
    ...server,
    dataDir,
    async dispose() {
      await server.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** POSTs JSON and returns status, headers and parsed body. */
export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  return { status: response.status, headers: response.headers, body: (await response.json()) as Record<string, unknown> };
}

/**
 * Any method, with an optional JSON body; returns status, headers and the parsed body
 * (undefined when there is none, as after a 204).
 */
export async function requestJson(method: string, url: string, body?: unknown, headers: Record<string, string> = {}) {
  const init: RequestInit = { method, headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers } };
  if (body !== undefined) init.body = JSON.stringify(body);
  const response = await fetch(url, init);
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: (text === '' ? undefined : JSON.parse(text)) as Record<string, unknown> | undefined };
}

/** GETs JSON. */
export async function getJson(url: string) {
  const response = await fetch(url);
  return { status: response.status, headers: response.headers, body: (await response.json()) as Record<string, unknown> };
}

/** Polls `read` until `done` holds or `ms` passes; returns the last value. */
export async function eventually<T>(read: () => Promise<T>, done: (v: T) => boolean, ms = 10_000, everyMs = 25): Promise<T> {
  const until = Date.now() + ms;
  let value = await read();
  while (!done(value) && Date.now() < until) {
    await new Promise((r) => setTimeout(r, everyMs));
    value = await read();
  }
  return value;
}
