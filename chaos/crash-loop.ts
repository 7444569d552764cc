/**
 * Crash loop: concurrent clients post a mix of echo jobs and orders while the server is
 * killed with SIGKILL at random moments and restarted on the same data dir each time.
 * The client side records every acknowledged (2xx) id; after the last restart the run
 * waits (bounded) for everything to settle, then checks, from the API and from the data dir:
 *
 * - lost = acknowledged jobs not `completed` plus acknowledged orders not `confirmed`
 *   once settled (still queued/processing/pending, or 404): must be 0;
 * - failed = acknowledged echo jobs that ended `failed` (echo cannot fail): must be 0;
 * - duplicated = the sum of every sign that work was applied twice or went backwards:
 *   a result document that changed (other inode or completedAt) after it was first seen,
 *   a result document whose body names another job or a job named by two documents, a
 *   job seen `completed` and later seen with another status or another updatedAt (a second
 *   completion), an order seen `confirmed` and later `pending` or with another confirmedAt.
 *   Must be 0. Statuses are observed by a sampler polling random acknowledged ids during
 *   the whole run (across restarts) and by the final sweep; result files are scanned after
 *   every kill and at the end;
 * - every completed acknowledged job has exactly one result document, with its own jobId
 *   and the echoed data as output; a result for an unacknowledged job is only possible for
 *   a request that was in flight at a kill (at most `unanswered` of them);
 * - no acknowledged record ever reads 404; nothing is dead-lettered; no 5xx; after the
 *   chaos, SIGTERM still shuts the server down cleanly (exit 0).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readResults, tmpLeftovers } from './data-dir.js';
import { getJson, isRecord, postJson, queueStats } from './http-client.js';
import { forEachLimit, sleep } from './poll.js';
import { seededRng } from './random.js';
import { firstFew, ScenarioLog, type ScenarioResult } from './report.js';
import { startSpool, type SpoolProcess } from './spool-process.js';

export interface CrashLoopOptions {
  /** How many times the server is killed with SIGKILL (and restarted). */
  readonly kills: number;
  /** Concurrent client loops. */
  readonly clients: number;
  /** Upper bound on requests sent by all clients together. */
  readonly maxRequests: number;
  /** Each kill comes a random time in [min, max) ms after the server (re)started listening. */
  readonly killAfterMs: readonly [number, number];
  /** Load continues this long after the last restart. */
  readonly loadAfterLastRestartMs: number;
  /** How long to wait for every acknowledged job and order to finish after the load stops. */
  readonly settleTimeoutMs: number;
  readonly seed: number;
}

/** Short visibility timeouts: messages in flight in a killed process come back after 2 s. */
// Every delivery cut off by a kill counts toward the DLQ (as on SQS); this scenario checks that
// nothing acknowledged is lost, so deliveries are not allowed to run out. What happens when they
// do (the job fails, with one alert) is test/unit/dead-letter-reconciler.test.ts.
const SERVER_ENV = {
  SPOOL_JOBS_VISIBILITY_SECONDS: '2',
  SPOOL_ORDERS_VISIBILITY_SECONDS: '2',
  SPOOL_JOBS_MAX_RECEIVE_COUNT: '100',
  SPOOL_ORDERS_MAX_RECEIVE_COUNT: '100',
};

interface EchoData {
  readonly client: number;
  readonly i: number;
  readonly nonce: number;
}

export async function crashLoop(options: CrashLoopOptions): Promise<ScenarioResult> {
  const log = new ScenarioLog('crash-loop');
  // Separate streams: the kill schedule replays exactly from the seed, whatever the load interleaving does.
  const killRng = seededRng(options.seed);
  const rng = seededRng(options.seed + 1);
  const dataDir = mkdtempSync(join(tmpdir(), 'spool-chaos-crash-'));
  let server: SpoolProcess | undefined;
  let current: SpoolProcess | undefined;
  let stopLoad = false;
  let loadPromise: Promise<unknown> = Promise.resolve();
  let samplerPromise: Promise<unknown> = Promise.resolve();

  // What the clients saw.
  const jobs = new Map<string, EchoData>();
  const jobIds: string[] = [];
  const orders = new Set<string>();
  const orderIds: string[] = [];
  let sent = 0;
  let unanswered = 0;
  const non2xx = new Map<number, number>();

  // What the observers saw.
  const completedAt = new Map<string, string>(); // jobId -> updatedAt when first seen completed
  const confirmedAt = new Map<string, string>(); // orderId -> confirmedAt when first seen confirmed
  const regressions: string[] = [];
  const vanishedRecords = new Set<string>();
  const resultsSeen = new Map<string, { ino: number; completedAt: string | undefined }>();
  const rewrittenResults = new Set<string>();
  const vanishedResults = new Set<string>();
  const wrongOutput = new Set<string>();

  const observeJob = (id: string, status: number, body: unknown) => {
    if (status === 404) vanishedRecords.add(id);
    if (status !== 200 || !isRecord(body)) return;
    const first = completedAt.get(id);
    if (body['status'] === 'completed') {
      if (first === undefined) completedAt.set(id, String(body['updatedAt']));
      else if (first !== body['updatedAt']) regressions.push(`job ${id} completed again (updatedAt ${first} -> ${String(body['updatedAt'])})`);
      if ('result' in body && JSON.stringify(body['result']) !== JSON.stringify(jobs.get(id))) wrongOutput.add(id);
    } else if (first !== undefined) {
      regressions.push(`job ${id} went completed -> ${String(body['status'])}`);
    }
  };
  const observeOrder = (id: string, status: number, body: unknown) => {
    if (status === 404) vanishedRecords.add(id);
    if (status !== 200 || !isRecord(body)) return;
    const first = confirmedAt.get(id);
    if (body['status'] === 'confirmed') {
      if (first === undefined) confirmedAt.set(id, String(body['confirmedAt']));
      else if (first !== body['confirmedAt']) regressions.push(`order ${id} confirmed again (${first} -> ${String(body['confirmedAt'])})`);
    } else if (first !== undefined) {
      regressions.push(`order ${id} went confirmed -> ${String(body['status'])}`);
    }
  };

  /** Compares the result files on disk with every earlier scan: a document never changes or disappears. */
  const scanResults = () => {
    const now = new Map(readResults(dataDir).map((f) => [f.fileId, f]));
    for (const [id, before] of resultsSeen) {
      const after = now.get(id);
      if (after === undefined) vanishedResults.add(id);
      else if (after.ino !== before.ino || after.completedAt !== before.completedAt) rewrittenResults.add(id);
    }
    for (const [id, file] of now) if (!resultsSeen.has(id)) resultsSeen.set(id, { ino: file.ino, completedAt: file.completedAt });
    return now;
  };

  const client = async (n: number) => {
    let i = 0;
    while (!stopLoad && sent < options.maxRequests) {
      const target = current;
      if (target === undefined) {
        await sleep(20);
        continue;
      }
      sent++;
      i++;
      try {
        if (rng.next() < 0.5) {
          const data: EchoData = { client: n, i, nonce: rng.int(1e9) };
          const reply = await postJson(`${target.url}/submit`, { task: 'echo', data }, 5_000);
          const id = isRecord(reply.json) ? reply.json['jobId'] : undefined;
          if (reply.status === 202 && typeof id === 'string') {
            jobs.set(id, data);
            jobIds.push(id);
          } else non2xx.set(reply.status, (non2xx.get(reply.status) ?? 0) + 1);
        } else {
          const reply = await postJson(`${target.url}/orders`, { amount: 10.5, currency: 'EUR' }, 5_000);
          const id = isRecord(reply.json) ? reply.json['orderId'] : undefined;
          if (reply.status === 202 && typeof id === 'string') {
            orders.add(id);
            orderIds.push(id);
          } else non2xx.set(reply.status, (non2xx.get(reply.status) ?? 0) + 1);
        }
      } catch {
        // Refused, reset or timed out: the server died under it. Not acknowledged.
        unanswered++;
        await sleep(10);
      }
    }
  };

  /** Polls random acknowledged ids all through the run, restarts included. */
  const sampler = async () => {
    while (!stopLoad) {
      const target = current;
      if (target !== undefined && jobIds.length + orderIds.length > 0) {
        const picks: Array<Promise<void>> = [];
        for (let k = 0; k < 8; k++) {
          if (jobIds.length > 0) {
            const id = rng.pick(jobIds);
            picks.push(getJson(`${target.url}/status/${id}`, 2_000).then((r) => observeJob(id, r.status, r.json), () => undefined));
          }
          if (orderIds.length > 0) {
            const id = rng.pick(orderIds);
            picks.push(getJson(`${target.url}/orders/${id}`, 2_000).then((r) => observeOrder(id, r.status, r.json), () => undefined));
          }
        }
        await Promise.all(picks);
      }
      await sleep(100);
    }
  };

  let kills = 0;
  let unexpectedExits = 0;
  const counts = { completed: 0, confirmed: 0, failed: 0, lost: 0, duplicated: 0, redelivered: 0 };
  try {
    server = await startSpool(dataDir, SERVER_ENV);
    current = server;
    loadPromise = Promise.all(Array.from({ length: options.clients }, (_, n) => client(n)));
    samplerPromise = sampler();

    for (let k = 0; k < options.kills; k++) {
      await sleep(killRng.between(options.killAfterMs[0], options.killAfterMs[1]));
      const victim = server;
      current = undefined;
      if (victim.hasExited()) unexpectedExits++;
      const exit = await victim.kill9();
      if (exit.signal === 'SIGKILL') kills++;
      else unexpectedExits++;
      scanResults();
      server = await startSpool(dataDir, SERVER_ENV);
      current = server;
    }
    await sleep(options.loadAfterLastRestartMs);
    stopLoad = true;
    await Promise.all([loadPromise, samplerPromise]);

    // Settle: poll every acknowledged id still unfinished until none is, or the time is up.
    const deadline = Date.now() + options.settleTimeoutMs;
    let pendingJobs = [...jobs.keys()];
    let pendingOrders = [...orders];
    const finalJob = new Map<string, unknown>();
    const finalOrder = new Map<string, unknown>();
    const live = server;
    for (;;) {
      const stillJobs: string[] = [];
      const stillOrders: string[] = [];
      await forEachLimit(pendingJobs, 16, async (id) => {
        const reply = await getJson(`${live.url}/status/${id}`).catch(() => undefined);
        if (reply !== undefined) observeJob(id, reply.status, reply.json);
        const status = isRecord(reply?.json) ? reply.json['status'] : undefined;
        finalJob.set(id, reply?.json);
        if (status !== 'completed' && status !== 'failed') stillJobs.push(id);
      });
      await forEachLimit(pendingOrders, 16, async (id) => {
        const reply = await getJson(`${live.url}/orders/${id}`).catch(() => undefined);
        if (reply !== undefined) observeOrder(id, reply.status, reply.json);
        finalOrder.set(id, reply?.json);
        if (!isRecord(reply?.json) || reply.json['status'] !== 'confirmed') stillOrders.push(id);
      });
      pendingJobs = stillJobs;
      pendingOrders = stillOrders;
      if (pendingJobs.length + pendingOrders.length === 0 || Date.now() + 500 > deadline) break;
      await sleep(500);
    }
    const jobsQueue = await queueStats(live.url, 'jobs');
    const ordersQueue = await queueStats(live.url, 'orders');

    const stopped = await live.stop();
    current = undefined;
    const files = scanResults();

    // Classify every acknowledged id by its final record.
    const failedIds: string[] = [];
    const lostIds: string[] = [];
    for (const id of jobs.keys()) {
      const body = finalJob.get(id);
      const status = isRecord(body) ? body['status'] : undefined;
      if (status === 'completed') counts.completed++;
      else if (status === 'failed') failedIds.push(id);
      else lostIds.push(id);
      if (isRecord(body) && Number(body['attempts']) > 1) counts.redelivered++;
    }
    for (const id of orders) {
      if (isRecord(finalOrder.get(id)) && (finalOrder.get(id) as Record<string, unknown>)['status'] === 'confirmed') counts.confirmed++;
      else lostIds.push(id);
    }
    counts.failed = failedIds.length;
    counts.lost = lostIds.length;

    // Result documents: exactly one per completed job, naming that job, holding its data.
    const byBodyJobId = new Map<string, number>();
    const mismatched: string[] = [];
    for (const file of files.values()) {
      if (file.jobId !== file.fileId) mismatched.push(file.fileId);
      if (file.jobId !== undefined) byBodyJobId.set(file.jobId, (byBodyJobId.get(file.jobId) ?? 0) + 1);
      const data = jobs.get(file.fileId);
      if (data !== undefined && JSON.stringify(file.output) !== JSON.stringify(data)) wrongOutput.add(file.fileId);
    }
    const namedTwice = [...byBodyJobId].filter(([, n]) => n > 1).map(([id]) => id);
    const missingResults = [...jobs.keys()].filter((id) => (finalJob.get(id) as { status?: string } | undefined)?.status === 'completed' && !files.has(id));
    const unackedResults = [...files.keys()].filter((id) => !jobs.has(id));
    counts.duplicated = rewrittenResults.size + mismatched.length + namedTwice.length + regressions.length;

    const fivexx = [...non2xx].filter(([s]) => s >= 500).reduce((a, [, n]) => a + n, 0);
    Object.assign(log.counts, {
      kills,
      requests: sent,
      accepted: jobs.size + orders.size,
      acceptedJobs: jobs.size,
      acceptedOrders: orders.size,
      completed: counts.completed,
      confirmed: counts.confirmed,
      failed: counts.failed,
      lost: counts.lost,
      duplicated: counts.duplicated,
      redelivered: counts.redelivered,
      unanswered,
      unackedResults: unackedResults.length,
    });

    log.check(`server killed with SIGKILL ${options.kills} times and restarted`, kills === options.kills && unexpectedExits === 0, `${kills} kills, ${unexpectedExits} unexpected exits`);
    log.check('load was acknowledged', jobs.size > 0 && orders.size > 0, `${jobs.size} jobs, ${orders.size} orders acknowledged of ${sent} requests`);
    log.check('lost = 0 (every acknowledged job completed, every order confirmed)', lostIds.length === 0, lostIds.length === 0 ? 'none' : `${lostIds.length}: ${firstFew(lostIds.map((id) => `${id}=${JSON.stringify(finalJob.get(id) ?? finalOrder.get(id))}`))}`);
    log.check('failed = 0 (echo jobs never fail)', failedIds.length === 0, failedIds.length === 0 ? 'none' : firstFew(failedIds));
    log.check(
      'duplicated = 0 (no result rewritten or doubled, no status going backwards or completing twice)',
      counts.duplicated === 0,
      `rewritten ${rewrittenResults.size}, body names another job ${mismatched.length}, job named by 2+ documents ${namedTwice.length}, status regressions ${regressions.length}${regressions.length > 0 ? `: ${firstFew(regressions)}` : ''}; ${completedAt.size} jobs and ${confirmedAt.size} orders observed settled during the run`,
    );
    log.check('exactly one result document per completed job', missingResults.length === 0 && vanishedResults.size === 0, `${files.size} documents; missing ${missingResults.length}${firstFew(missingResults) ? ` (${firstFew(missingResults)})` : ''}, vanished ${vanishedResults.size}`);
    log.check('every result holds the echoed data', wrongOutput.size === 0, wrongOutput.size === 0 ? 'all match' : firstFew(wrongOutput));
    log.check('results of unacknowledged jobs only from requests cut by a kill', unackedResults.length <= unanswered, `${unackedResults.length} unacknowledged results, ${unanswered} unanswered requests`);
    log.check('no acknowledged record ever read as 404', vanishedRecords.size === 0, vanishedRecords.size === 0 ? 'none' : firstFew(vanishedRecords));
    log.check('nothing dead-lettered by crash redeliveries', jobsQueue.deadLetters === 0 && ordersQueue.deadLetters === 0, `jobs DLQ ${jobsQueue.deadLetters}, orders DLQ ${ordersQueue.deadLetters}`);
    log.check('no 5xx during the chaos', fivexx === 0, `non-2xx answers: ${JSON.stringify(Object.fromEntries(non2xx))}`);
    log.check('SIGTERM after the chaos exits 0', stopped.code === 0, `exit code ${stopped.code}, signal ${stopped.signal}`);
    log.notes.push(`seed ${options.seed}; ${counts.redelivered} jobs ran more than once (redelivered after a kill); ${tmpLeftovers(dataDir)} temp files left in objects/results/.tmp by killed writes`);
  } catch (error) {
    log.aborted(error);
  } finally {
    stopLoad = true;
    current = undefined;
    await Promise.all([loadPromise, samplerPromise]).catch(() => undefined);
    if (server !== undefined) await server.stop(5_000);
  }
  if (log.allOk()) rmSync(dataDir, { recursive: true, force: true });
  else log.notes.push(`data dir kept for inspection: ${dataDir}`);
  return log.result();
}
