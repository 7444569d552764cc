/**
 * Poison and redrive: under a load of echo jobs, a share of the jobs are
 * `{"task":"fail","data":{"message":"poison-<n>"}}`, with 3 deliveries before the DLQ and
 * no retry delay. Checks that each poison job ends `failed` after 3 attempts with its own
 * error, sits in the jobs DLQ (the `deadLetters` count of `GET /admin/queues`, and a peek
 * at the first 100 holds only poison jobs), and has exactly one alert line in
 * `alerts.jsonl` naming it; that no good job fails or alerts. Then, under a second wave of
 * echo jobs, `POST /admin/queues/jobs/redrive` moves them all back and each runs again:
 * new deliveries from 1 (its record is updated after the redrive and ends `failed` with
 * attempts 3 again, where a message that kept its receive count would be dead-lettered on
 * receipt without running), dead-lettered again, and now exactly two alerts each.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readAlerts, type AlertLine } from './data-dir.js';
import { getJson, isRecord, postJson, queueStats, request } from './http-client.js';
import { forEachLimit, pollUntil } from './poll.js';
import { seededRng, type Rng } from './random.js';
import { firstFew, ScenarioLog, type ScenarioResult } from './report.js';
import { startSpool, type SpoolProcess } from './spool-process.js';

export interface PoisonRedriveOptions {
  /** Jobs submitted in the first wave (poison included); the redrive wave adds half as many echo jobs. */
  readonly jobs: number;
  /** Share of the first wave that is poison, e.g. 0.1. */
  readonly poisonShare: number;
  readonly clients: number;
  /** Bound on each of the two waits (after the first wave, after the redrive). */
  readonly settleTimeoutMs: number;
  readonly seed: number;
}

const MAX_RECEIVE_COUNT = 3;
const SERVER_ENV = {
  SPOOL_JOBS_MAX_RECEIVE_COUNT: String(MAX_RECEIVE_COUNT),
  SPOOL_RETRY_BASE_SECONDS: '0',
  SPOOL_JOBS_VISIBILITY_SECONDS: '2',
  SPOOL_ORDERS_VISIBILITY_SECONDS: '2',
  SPOOL_ALERT_SUBSCRIBERS: 'outbox',
};

type Job = { readonly kind: 'echo' } | { readonly kind: 'poison'; readonly message: string };

interface JobView {
  readonly status?: string;
  readonly attempts?: number;
  readonly error?: string;
  readonly updatedAt?: string;
}

/** Submits `plan` with `clients` concurrent loops; returns jobId -> job for each 202, and the other answers. */
async function submitAll(url: string, plan: readonly Job[], clients: number): Promise<{ accepted: Map<string, Job>; rejected: string[] }> {
  const accepted = new Map<string, Job>();
  const rejected: string[] = [];
  await forEachLimit(plan, clients, async (job, i) => {
    const body = job.kind === 'echo' ? { task: 'echo', data: { i } } : { task: 'fail', data: { message: job.message } };
    try {
      const reply = await postJson(`${url}/submit`, body);
      const id = isRecord(reply.json) ? reply.json['jobId'] : undefined;
      if (reply.status === 202 && typeof id === 'string') accepted.set(id, job);
      else rejected.push(`${reply.status} ${reply.text.slice(0, 100)}`);
    } catch (error) {
      rejected.push(String(error));
    }
  });
  return { accepted, rejected };
}

function plan(rng: Rng, jobs: number, poisonShare: number, offset: number): Job[] {
  const poison = new Set<number>();
  const wanted = Math.round(jobs * poisonShare);
  while (poison.size < wanted) poison.add(rng.int(jobs));
  return Array.from({ length: jobs }, (_, n) => (poison.has(n) ? { kind: 'poison', message: `poison-${offset + n}` } : { kind: 'echo' }));
}

/** Alerts naming each job id. */
function alertsPerJob(alerts: readonly AlertLine[], ids: Iterable<string>): Map<string, AlertLine[]> {
  const out = new Map<string, AlertLine[]>();
  for (const id of ids) out.set(id, []);
  for (const alert of alerts) {
    for (const [id, list] of out) if (alert.message.includes(id)) list.push(alert);
  }
  return out;
}

/** The alert a dead-lettered poison job must produce. */
function alertMatches(alert: AlertLine, job: Job): boolean {
  try {
    const m = JSON.parse(alert.message) as Record<string, unknown>;
    return m['kind'] === 'dead-lettered' && m['queue'] === 'jobs' && m['attempts'] === MAX_RECEIVE_COUNT && job.kind === 'poison' && m['error'] === job.message;
  } catch {
    return false;
  }
}

export async function poisonRedrive(options: PoisonRedriveOptions): Promise<ScenarioResult> {
  const log = new ScenarioLog('poison-redrive');
  const rng = seededRng(options.seed);
  const dataDir = mkdtempSync(join(tmpdir(), 'spool-chaos-poison-'));
  let server: SpoolProcess | undefined;
  try {
    server = await startSpool(dataDir, SERVER_ENV);
    const url = server.url;

    // Wave 1: echo jobs with poison among them.
    const first = await submitAll(url, plan(rng, options.jobs, options.poisonShare, 0), options.clients);
    const poison = new Map([...first.accepted].filter(([, j]) => j.kind === 'poison'));
    const echo1 = [...first.accepted.keys()].filter((id) => !poison.has(id));
    log.check('every submission accepted (202)', first.rejected.length === 0 && poison.size > 0, `${first.accepted.size} accepted (${poison.size} poison), rejected: ${firstFew(first.rejected) || 'none'}`);

    const views = new Map<string, JobView>();
    const refresh = async (ids: readonly string[]) => {
      await forEachLimit(ids, 16, async (id) => {
        const reply = await getJson(`${url}/status/${id}`).catch(() => undefined);
        if (reply?.status === 200 && isRecord(reply.json)) views.set(id, reply.json as JobView);
      });
    };
    const unsettled = (ids: readonly string[], want: (v: JobView) => boolean) => ids.filter((id) => !want(views.get(id) ?? {}));
    const isFailedOut = (v: JobView) => v.status === 'failed' && v.attempts === MAX_RECEIVE_COUNT;

    // Wait (bounded) until every echo job completed, every poison job failed out, sits in the DLQ and alerted once.
    const settle = async (echoIds: string[], alertsEach: number, after: string | undefined) => {
      let pending = [...echoIds, ...poison.keys()];
      const want = (id: string) => (v: JobView) =>
        poison.has(id) ? isFailedOut(v) && (after === undefined || (v.updatedAt ?? '') > after) : v.status === 'completed';
      return pollUntil(
        async () => {
          await refresh(pending);
          pending = pending.filter((id) => !want(id)(views.get(id) ?? {}));
          const stats = await queueStats(url, 'jobs');
          const alerts = alertsPerJob(readAlerts(dataDir).alerts, poison.keys());
          return { pending: pending.length, stats, alertsOk: [...alerts.values()].every((a) => a.length >= alertsEach) };
        },
        (s) => s.pending === 0 && s.stats.deadLetters >= poison.size && s.stats.visible + s.stats.inFlight === 0 && s.alertsOk,
        Date.now() + options.settleTimeoutMs,
        250,
      );
    };

    const firstSettle = await settle(echo1, 1, undefined);
    const poisonIds = [...poison.keys()];
    const checkPoison = (phase: string, alertsEach: number, deadLetters: number, after: string | undefined) => {
      const { alerts, unparsable } = readAlerts(dataDir);
      const perJob = alertsPerJob(alerts, first.accepted.keys());
      const wrongStatus = poisonIds.filter((id) => {
        const v = views.get(id) ?? {};
        const job = poison.get(id)!;
        return !isFailedOut(v) || job.kind !== 'poison' || v.error !== job.message || (after !== undefined && (v.updatedAt ?? '') <= after);
      });
      const wrongAlerts = poisonIds.filter((id) => {
        const list = perJob.get(id) ?? [];
        return list.length !== alertsEach || !list.every((a) => alertMatches(a, poison.get(id)!));
      });
      const echoAlerted = [...first.accepted.keys()].filter((id) => !poison.has(id) && (perJob.get(id) ?? []).length > 0);
      log.check(
        `${phase}: each poison job failed with attempts ${MAX_RECEIVE_COUNT} and its error${after === undefined ? '' : ', after running again'}`,
        wrongStatus.length === 0,
        wrongStatus.length === 0 ? `${poisonIds.length} of ${poisonIds.length}` : `${wrongStatus.length} wrong: ${firstFew(wrongStatus.map((id) => `${id}=${JSON.stringify(views.get(id))}`))}`,
      );
      log.check(`${phase}: DLQ deadLetters = poison jobs`, deadLetters === poison.size, `deadLetters ${deadLetters}, poison ${poison.size}`);
      log.check(
        `${phase}: exactly ${alertsEach} alert${alertsEach > 1 ? 's' : ''} per poison job, none for good jobs`,
        wrongAlerts.length === 0 && echoAlerted.length === 0 && unparsable === 0 && alerts.length === alertsEach * poison.size,
        `${alerts.length} alert lines for ${poison.size} poison jobs; wrong count or content ${wrongAlerts.length}${wrongAlerts.length > 0 ? ` (${firstFew(wrongAlerts.map((id) => `${id}: ${perJob.get(id)?.length ?? 0}`))})` : ''}, good jobs alerted ${echoAlerted.length}, unparsable ${unparsable}`,
      );
      return { alerts: alerts.length, wrong: wrongStatus.length + wrongAlerts.length };
    };

    const echoDone1 = echo1.filter((id) => views.get(id)?.status === 'completed').length;
    log.check('wave 1: every good job completed', echoDone1 === echo1.length, `${echoDone1} of ${echo1.length}${firstSettle.met ? '' : ` (not settled within ${options.settleTimeoutMs} ms)`}`);
    const before = checkPoison('wave 1', 1, firstSettle.value.stats.deadLetters, undefined);
    const dlqPeek = await getJson(`${url}/admin/queues/jobs/dlq?limit=100`);
    const peeked = ((dlqPeek.json as { messages?: Array<{ body: string; receiveCount: number }> } | undefined)?.messages ?? []).map((m) => {
      try {
        return { jobId: String((JSON.parse(m.body) as { jobId?: unknown }).jobId), receiveCount: m.receiveCount };
      } catch {
        return { jobId: '<unparsable>', receiveCount: m.receiveCount };
      }
    });
    const strangers = peeked.filter((m) => !poison.has(m.jobId));
    log.check(
      'wave 1: the DLQ peek (first 100) holds only poison jobs',
      dlqPeek.status === 200 && peeked.length === Math.min(100, poison.size) && strangers.length === 0,
      `${peeked.length} peeked, ${strangers.length} not poison${strangers.length > 0 ? `: ${firstFew(strangers.map((s) => s.jobId))}` : ''}`,
    );

    // Redrive under a second wave of echo jobs.
    const redriveAt = new Date().toISOString();
    const wave2 = submitAll(url, plan(rng, Math.ceil(options.jobs / 2), 0, options.jobs), options.clients);
    const redrive = await request(`${url}/admin/queues/jobs/redrive`, { method: 'POST' });
    const moved = isRecord(redrive.json) ? Number(redrive.json['moved']) : Number.NaN;
    const second = await wave2;
    log.check('redrive moved every dead letter back', redrive.status === 200 && moved === poison.size, `${redrive.status}, moved ${moved} of ${poison.size}`);
    log.check('wave 2: every submission accepted (202)', second.rejected.length === 0, `${second.accepted.size} accepted, rejected: ${firstFew(second.rejected) || 'none'}`);

    const echo2 = [...second.accepted.keys()];
    const secondSettle = await settle(echo2, 2, redriveAt);
    const echoDone2 = echo2.filter((id) => views.get(id)?.status === 'completed').length;
    log.check('wave 2: every good job completed', echoDone2 === echo2.length, `${echoDone2} of ${echo2.length}${secondSettle.met ? '' : ` (not settled within ${options.settleTimeoutMs} ms)`}`);
    const after = checkPoison('after redrive', 2, secondSettle.value.stats.deadLetters, redriveAt);
    const orders = await queueStats(url, 'orders');

    Object.assign(log.counts, {
      jobs: first.accepted.size + second.accepted.size,
      poison: poison.size,
      completed: echoDone1 + echoDone2,
      failed: poisonIds.filter((id) => views.get(id)?.status === 'failed').length,
      deadLetters: secondSettle.value.stats.deadLetters,
      alertsBefore: before.alerts,
      redriven: Number.isFinite(moved) ? moved : -1,
      alertsAfter: after.alerts,
      wrong: before.wrong + after.wrong,
    });
    log.check('nothing else dead-lettered (orders DLQ empty)', orders.deadLetters === 0, `orders DLQ ${orders.deadLetters}`);
    log.notes.push(`seed ${options.seed}`);
  } catch (error) {
    log.aborted(error);
  } finally {
    if (server !== undefined) await server.stop(5_000);
  }
  if (log.allOk()) rmSync(dataDir, { recursive: true, force: true });
  else log.notes.push(`data dir kept for inspection: ${dataDir}`);
  return log.result();
}
