/**
 * Bad input at volume: the generators of `bad-input-generators.ts` run `perEndpoint`
 * requests against every POST endpoint of a running server over real HTTP (raw
 * `node:http`, so "no body" and "no Content-Type" really are absent). Invariants:
 * - never a 5xx, never a dropped connection, and the server is still healthy at the end;
 * - every non-2xx is a 4xx with `Content-Type: application/json` and `{"error": {"code", "message"}}`;
 * - every 2xx has the documented shape, and only for a body within the documented contract;
 *   a body within the contract, sent as `application/json` without Idempotency-Key, is accepted;
 * - nothing is stored for a rejected request: the rows of `spool.db` grow by exactly one
 *   job record per 202 from /submit and /jobs, one idempotency record per such 202 that
 *   carried a key, and one order per 202 from /orders (read with a read-only connection).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { meetsOrderContract, meetsSubmitContract } from '../test/support/request-contracts.js';
import { endpointGenerators, type FuzzRequest } from './bad-input-generators.js';
import { storedRows } from './data-dir.js';
import { getJson, isErrorBody, isRecord } from './http-client.js';
import { forEachLimit } from './poll.js';
import { firstFew, ScenarioLog, type ScenarioResult } from './report.js';
import { startSpool, type SpoolProcess } from './spool-process.js';

export interface BadInputOptions {
  /** Generated requests per POST endpoint. */
  readonly perEndpoint: number;
  /** Requests in flight at once. */
  readonly concurrency: number;
  /** The whole scenario stops sending after this, whatever is left. */
  readonly timeLimitMs: number;
  readonly seed: number;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface Answer {
  readonly status: number;
  readonly contentType: string;
  readonly text: string;
  readonly location: string | undefined;
}

type Outcome = { kind: 'answer'; answer: Answer } | { kind: 'unsendable' } | { kind: 'transport'; error: string };

/** One raw POST. A header value Node refuses to send (not Latin-1) is "unsendable": nothing reached the server. */
function send(agent: Agent, base: URL, req: FuzzRequest): Promise<Outcome> {
  return new Promise((resolve) => {
    const headers: Record<string, string> = {};
    if (req.contentType !== undefined) headers['content-type'] = req.contentType;
    if (req.idempotencyKey !== undefined) headers['idempotency-key'] = req.idempotencyKey;
    const body = req.body === undefined ? undefined : Buffer.from(req.body);
    if (body !== undefined) headers['content-length'] = String(body.byteLength);
    let r;
    try {
      r = httpRequest({ host: base.hostname, port: base.port, method: 'POST', path: req.path, headers, agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            kind: 'answer',
            answer: {
              status: res.statusCode ?? 0,
              contentType: String(res.headers['content-type'] ?? ''),
              text: Buffer.concat(chunks).toString(),
              location: res.headers['location'],
            },
          }),
        );
        res.on('error', (e) => resolve({ kind: 'transport', error: String(e) }));
      });
    } catch {
      resolve({ kind: 'unsendable' });
      return;
    }
    r.setTimeout(10_000, () => r.destroy(new Error('timed out after 10 s')));
    r.on('error', (e) => resolve({ kind: 'transport', error: String(e) }));
    r.end(body);
  });
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Whether a 2xx has the documented success shape of its endpoint. */
function successShapeOk(req: FuzzRequest, a: Answer): boolean {
  const body = parse(a.text);
  if (!isRecord(body)) return false;
  if (req.path === '/submit' || req.path === '/jobs') {
    return (
      (a.status === 202 || a.status === 200) &&
      typeof body['jobId'] === 'string' &&
      UUID.test(body['jobId']) &&
      typeof body['status'] === 'string' &&
      typeof body['createdAt'] === 'string' &&
      a.location === `/status/${body['jobId']}`
    );
  }
  if (req.path === '/orders') return a.status === 202 && typeof body['orderId'] === 'string' && UUID.test(body['orderId']) && a.location === `/orders/${body['orderId']}`;
  return a.status === 200 && typeof body['moved'] === 'number';
}

export async function badInput(options: BadInputOptions): Promise<ScenarioResult> {
  const log = new ScenarioLog('bad-input');
  const dataDir = mkdtempSync(join(tmpdir(), 'spool-chaos-input-'));
  const agent = new Agent({ keepAlive: true, maxSockets: options.concurrency });
  let server: SpoolProcess | undefined;
  try {
    server = await startSpool(dataDir);
    const base = new URL(server.url);
    const deadline = Date.now() + options.timeLimitMs;
    const before = storedRows(dataDir);
    const tally = { sent: 0, unsendable: 0, accepted: 0, rejected: 0, fivexx: 0, transport: 0, badError: 0, badSuccess: 0, acceptedInvalid: 0, rejectedValid: 0 };
    const created = { jobs: 0, keys: 0, orders: 0 };
    const examples = { fivexx: [] as string[], transport: [] as string[], badError: [] as string[], badSuccess: [] as string[], acceptedInvalid: [] as string[], rejectedValid: [] as string[] };
    const remember = (list: string[], req: FuzzRequest, a?: Answer) => {
      if (list.length < 3) list.push(`${req.path} ct=${JSON.stringify(req.contentType)} body=${JSON.stringify(req.body)?.slice(0, 160)} -> ${a === undefined ? '' : `${a.status} ${a.text.slice(0, 160)}`}`);
    };
    let truncated = 0;

    const endpoints = endpointGenerators(`chaos-${options.seed}`);
    for (const [e, endpoint] of endpoints.entries()) {
      const requests = fc.sample(endpoint.requests, { numRuns: options.perEndpoint, seed: options.seed + e });
      await forEachLimit(requests, options.concurrency, async (req) => {
        if (Date.now() > deadline) {
          truncated++;
          return;
        }
        const outcome = await send(agent, base, req);
        if (outcome.kind === 'unsendable') {
          tally.unsendable++;
          return;
        }
        tally.sent++;
        if (outcome.kind === 'transport') {
          tally.transport++;
          if (examples.transport.length < 3) examples.transport.push(`${req.path}: ${outcome.error}`);
          return;
        }
        const a = outcome.answer;
        const isJobs = req.path === '/submit' || req.path === '/jobs';
        const isOrders = req.path === '/orders';
        const plainJson = req.contentType === 'application/json' && req.idempotencyKey === undefined;
        const withinContract = isJobs ? meetsSubmitContract(req) : isOrders ? meetsOrderContract(req) : undefined;
        if (a.status >= 500) {
          tally.fivexx++;
          remember(examples.fivexx, req, a);
        } else if (a.status >= 200 && a.status < 300) {
          tally.accepted++;
          if (!successShapeOk(req, a)) {
            tally.badSuccess++;
            remember(examples.badSuccess, req, a);
          }
          if (withinContract === false) {
            tally.acceptedInvalid++;
            remember(examples.acceptedInvalid, req, a);
          }
          if (a.status === 202 && isJobs) {
            created.jobs++;
            if (req.idempotencyKey !== undefined) created.keys++;
          }
          if (a.status === 202 && isOrders) created.orders++;
        } else {
          tally.rejected++;
          if (a.status < 400 || !/^application\/json/.test(a.contentType) || !isErrorBody(parse(a.text))) {
            tally.badError++;
            remember(examples.badError, req, a);
          }
          if (withinContract === true && plainJson) {
            tally.rejectedValid++;
            remember(examples.rejectedValid, req, a);
          }
        }
      });
    }

    const after = storedRows(dataDir);
    const delta = { jobs: after.jobs - before.jobs, keys: after.idempotencyKeys - before.idempotencyKeys, orders: after.orders - before.orders };
    const health = await getJson(`${server.url}/health`).catch(() => undefined);

    Object.assign(log.counts, {
      requests: tally.sent,
      accepted: tally.accepted,
      rejected: tally.rejected,
      fivexx: tally.fivexx,
      transportErrors: tally.transport,
      nonJsonErrors: tally.badError,
      acceptedInvalid: tally.acceptedInvalid,
      rejectedValid: tally.rejectedValid,
      storedForRejected: Math.abs(delta.jobs - created.jobs) + Math.abs(delta.keys - created.keys) + Math.abs(delta.orders - created.orders),
    });
    const planned = options.perEndpoint * endpoints.length;
    log.check('requests sent', tally.sent > 0 && truncated === 0, `${tally.sent} of ${planned} planned (${endpoints.map((e) => e.name).join(', ')}), ${tally.unsendable} with a header value Node will not send, ${truncated} cut by the ${options.timeLimitMs} ms limit`);
    log.check('never a 5xx', tally.fivexx === 0, tally.fivexx === 0 ? 'none' : firstFew(examples.fivexx));
    log.check('never a dropped connection; healthy at the end', tally.transport === 0 && health?.status === 200 && !server.hasExited(), `${tally.transport} transport errors${examples.transport.length > 0 ? ` (${firstFew(examples.transport)})` : ''}; /health ${health?.status ?? 'unreachable'}`);
    log.check('every non-2xx is a 4xx JSON error', tally.badError === 0, tally.badError === 0 ? `${tally.rejected} rejections` : firstFew(examples.badError));
    log.check('every 2xx has the documented shape', tally.badSuccess === 0, tally.badSuccess === 0 ? `${tally.accepted} accepted` : firstFew(examples.badSuccess));
    log.check('only bodies within the documented contract are accepted', tally.acceptedInvalid === 0, tally.acceptedInvalid === 0 ? 'none outside' : firstFew(examples.acceptedInvalid));
    log.check('bodies within the contract (application/json, no key) are accepted', tally.rejectedValid === 0, tally.rejectedValid === 0 ? 'none rejected' : firstFew(examples.rejectedValid));
    log.check(
      'nothing stored for rejected requests',
      delta.jobs === created.jobs && delta.keys === created.keys && delta.orders === created.orders,
      `job records +${delta.jobs} for ${created.jobs} job 202s, idempotency records +${delta.keys} for ${created.keys} keyed 202s, orders +${delta.orders} for ${created.orders} order 202s`,
    );
    log.notes.push(`seed ${options.seed} (fast-check seed seed+i for endpoint i)`);
  } catch (error) {
    log.aborted(error);
  } finally {
    agent.destroy();
    if (server !== undefined) await server.stop(5_000);
  }
  if (log.allOk()) rmSync(dataDir, { recursive: true, force: true });
  else log.notes.push(`data dir kept for inspection: ${dataDir}`);
  return log.result();
}
