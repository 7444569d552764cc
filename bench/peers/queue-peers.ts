/**
 * Figure 8: the same enqueue + consume + acknowledge workload on Spool's embedded queue,
 * BullMQ (Redis) and pg-boss (PostgreSQL), in four variants ({1, 10} consumers x
 * {single, batched} enqueue). A peer whose service is unreachable is reported as skipped.
 */
import type { Figure, Mode, Section } from '../report.js';
import { fmt, ms, rate, summarize } from '../stats.js';
import { openBullmq } from './bullmq.js';
import { openPgBoss, PGBOSS_POOL, PGBOSS_SCHEMA } from './pgboss.js';
import { openSpool } from './spool.js';
import { bounds as boundsFor, BATCH, VARIANTS, variantName, WARM_UP, type Bounds, type PeerSession, type RunResult, type Variant } from './workload.js';

type EngineName = 'Spool' | 'BullMQ' | 'pg-boss';
const ENGINES: readonly EngineName[] = ['Spool', 'BullMQ', 'pg-boss'];

type Outcome = { readonly result: RunResult; readonly extra?: string } | { readonly error: string } | { readonly skipped: string };

interface EngineReport {
  readonly outcomes: Map<Variant, Outcome>;
  /** Durability as read from the server (or Spool's own), or why it was skipped. */
  readonly durability: string;
}

const message = (error: unknown) => (error instanceof Error ? error.message : String(error)).slice(0, 300);
const log = (text: string) => process.stderr.write(`[bench] 8: ${text}\n`);

function throughput(r: RunResult): number {
  return rate(r.acked, r.elapsedMs);
}

function headline(r: RunResult, b: Bounds): string {
  const l = summarize(r.latenciesMs);
  const bound = r.timedOut ? ` (time bound: ${fmt(r.acked)} of ${fmt(b.messages)} acked in ${fmt(r.elapsedMs / 1000, 0)} s)` : '';
  return `${fmt(throughput(r))} msg/s; p50 ${ms(l.p50)}, p99 ${ms(l.p99)}${bound}`;
}

function describe(r: RunResult, b: Bounds): string {
  const l = summarize(r.latenciesMs);
  return (
    `${fmt(r.acked)} of ${fmt(b.messages)} acknowledged in ${fmt(r.elapsedMs / 1000, 2)} s${r.timedOut ? ' (stopped by the time bound)' : ''}` +
    ` (enqueued ${fmt(r.enqueued)}, handled ${fmt(r.handled)}); enqueue -> handler over ${fmt(l.count)} messages: p50 ${ms(l.p50)},` +
    ` p90 ${ms(l.p90)}, p99 ${ms(l.p99)}, max ${ms(l.max)}${r.notes.length > 0 ? `; ${r.notes.join('; ')}` : ''}`
  );
}

async function runEngine(
  engine: EngineName,
  opened: { session: PeerSession; durability: string } | { skipped: string },
  b: Bounds,
  extra?: (variant: Variant, bounds: Bounds) => Promise<RunResult>,
): Promise<EngineReport> {
  const outcomes = new Map<Variant, Outcome>();
  if ('skipped' in opened) {
    log(`${engine} skipped: ${opened.skipped}`);
    for (const v of VARIANTS) outcomes.set(v, { skipped: opened.skipped });
    return { outcomes, durability: `skipped: ${opened.skipped}` };
  }
  const { session } = opened;
  try {
    log(`${engine} warm-up`);
    await session.run(VARIANTS[VARIANTS.length - 1]!, WARM_UP).catch((error: unknown) => log(`${engine} warm-up failed: ${message(error)}`));
    for (const v of VARIANTS) {
      try {
        log(`${engine}, ${variantName(v)}`);
        const result = await session.run(v, b);
        let note: string | undefined;
        if (extra !== undefined) {
          try {
            log(`${engine}, ${variantName(v)}, fetch() loops`);
            const r = await extra(v, b);
            note = `fetch()+complete() loops instead of work(): ${headline(r, b)}; ${describe(r, b)}`;
          } catch (error) {
            note = `fetch()+complete() loops instead of work(): failed: ${message(error)}`;
          }
        }
        outcomes.set(v, note === undefined ? { result } : { result, extra: note });
      } catch (error) {
        log(`${engine}, ${variantName(v)} failed: ${message(error)}`);
        outcomes.set(v, { error: message(error) });
      }
    }
  } finally {
    await session.close();
  }
  return { outcomes, durability: opened.durability };
}

export async function queuePeers(mode: Mode): Promise<Section> {
  const b = boundsFor(mode);
  const reports = new Map<EngineName, EngineReport>();
  reports.set('Spool', await runEngine('Spool', openSpool(), b));
  reports.set('BullMQ', await runEngine('BullMQ', await openBullmq(), b));
  const pgboss = await openPgBoss();
  reports.set('pg-boss', await runEngine('pg-boss', pgboss, b, 'runFetch' in pgboss ? pgboss.runFetch : undefined));

  const figures: Figure[] = [];
  let index = 0;
  for (const v of VARIANTS) {
    for (const engine of ENGINES) {
      const outcome = reports.get(engine)!.outcomes.get(v)!;
      const id = `8${String.fromCharCode(97 + index++)}`;
      const name = `${engine}, ${variantName(v)}`;
      if ('skipped' in outcome) figures.push({ id, name, value: `skipped: ${outcome.skipped}` });
      else if ('error' in outcome) figures.push({ id, name, value: 'ERROR', met: false, details: [outcome.error] });
      else figures.push({ id, name, value: headline(outcome.result, b), details: [describe(outcome.result, b), ...(outcome.extra === undefined ? [] : [outcome.extra])] });
    }
  }

  // Spool vs peers: the fastest engine (messages/s) per variant.
  const wins = new Map<EngineName, number>();
  const perVariant = VARIANTS.map((v) => {
    const ranked = ENGINES.flatMap((engine) => {
      const o = reports.get(engine)!.outcomes.get(v)!;
      return 'result' in o ? [{ engine, r: o.result }] : [];
    }).sort((x, y) => throughput(y.r) - throughput(x.r));
    if (ranked.length === 0) return `${variantName(v)}: no engine completed`;
    const best = ranked[0]!;
    wins.set(best.engine, (wins.get(best.engine) ?? 0) + 1);
    const spool = ranked.find((x) => x.engine === 'Spool');
    const versus = spool === undefined || best.engine === 'Spool' ? '' : ` (Spool at ${(throughput(spool.r) / Math.max(1e-9, throughput(best.r))).toFixed(2)}x the fastest)`;
    return `${variantName(v)}: fastest ${best.engine}${versus}; ${ranked.map((x) => `${x.engine} ${fmt(throughput(x.r))} msg/s${x.r.timedOut ? ' (time bound)' : ''}`).join(', ')}`;
  });
  const skipped = ENGINES.filter((e) => reports.get(e)!.durability.startsWith('skipped'));
  figures.push({
    id: `8${String.fromCharCode(97 + index)}`,
    name: 'Spool vs peers: fastest engine per variant (msg/s)',
    value:
      wins.size === 0
        ? 'no engine completed'
        : [...wins.entries()].map(([engine, n]) => `${engine} ${n} of ${VARIANTS.length}`).join(', ') + (skipped.length > 0 ? `; ${skipped.join(', ')} skipped` : ''),
    details: [
      ...perVariant,
      `Durability: ${ENGINES.map((e) => `${e}: ${reports.get(e)!.durability}`).join('; ')}`,
    ],
  });

  const durability = (e: EngineName) => reports.get(e)!.durability;
  return {
    title: '8. Queue engines side by side',
    method: [
      `The same workload on three engines, all driven from the benchmark process: enqueue, consume and acknowledge ${fmt(b.messages)}`,
      `job-shaped JSON messages (~150 bytes, carrying their enqueue time from \`performance.now()\`) with a no-op handler, bounded by`,
      `count and by time (${b.timeLimitMs / 1000} s per variant; a run stopped by the time bound says how many were acknowledged). Four variants: 1 or 10`,
      `consumers x single or batched (${BATCH} per call) enqueue; there are as many producer loops as consumers, and producers and consumers`,
      'run concurrently. Messages/s is acknowledgements from the first enqueue to the last acknowledgement; latency is enqueue call ->',
      'handler start (when producers outpace consumers it includes the time spent waiting in the backlog). Each engine gets an',
      `unreported warm-up (${WARM_UP.messages} messages, 10 consumers, batched) first; each variant starts on an empty queue.`,
      "Spool's engine runs inside the benchmark process (SQLite work on its event loop, fdatasync on the thread pool); Redis and",
      'PostgreSQL are separate server processes on the same machine, so they bring CPU of their own (shared by all on its cores).',
      '',
      '- **Spool**: `SqliteQueue` on a fresh temp-dir `SqliteEngine` with the default durability; a consumer is a loop of',
      '  `receive({ maxMessages: 10, waitTimeSeconds: 1 })`, the handler for each message, then one `delete` of the batch (as the',
      '  runtime does with batch size 10); enqueue is `send` of 1 or 10 messages.',
      `- **BullMQ**: \`Queue.add\` / \`Queue.addBulk\`, one \`Worker\` with \`concurrency\` = consumers, \`removeOnComplete: true\`; the ack is`,
      `  the worker's \`completed\` event. The queue is obliterated before and after. Redis connections use ioredis.`,
      `- **pg-boss**: \`boss.send\` / \`boss.insert\`, one \`boss.work(name, { batchSize: 10, pollingIntervalSeconds: 0.5 })\` registration per`,
      `  consumer (pg-boss 10 has no \`localConcurrency\`), pool of ${PGBOSS_POOL} connections, schema \`${PGBOSS_SCHEMA}\` (dropped afterwards),`,
      '  maintenance and scheduling off. pg-boss polls: a `work()` registration fetches one batch per polling interval unless it is',
      '  notified, so it handles at most batchSize / 0.5 s = 20 messages/s; that bound, not PostgreSQL, sets the headline. Its',
      '  `complete` after the handler is not awaited by pg-boss, so acknowledgements are counted in the job table. A detail line',
      '  repeats each variant with loops of `boss.fetch(name, { batchSize: 10 })` + `boss.complete` that only sleep 0.5 s when a',
      '  fetch comes back empty.',
      '',
      'Durability as configured on this machine (read from the servers at run time):',
      '',
      `- Spool: ${durability('Spool')}.`,
      `- BullMQ: ${durability('BullMQ')}.`,
      `- pg-boss: ${durability('pg-boss')}.`,
    ].join('\n'),
    figures,
  };
}
