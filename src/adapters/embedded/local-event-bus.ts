import { busNameOf, checkPutEventsRequest, checkRuleDefinition, checkTargets } from '../../domain/events/event-bus-requests.js';
import { randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';
import { matchesEventPattern, parseEventPattern, type EventPattern } from '../../domain/events/event-pattern.js';
import { NotFoundError, ValidationError } from '../../errors.js';
import { systemClock, type Clock } from '../../ports/clock.js';
import {
  MAX_PUT_EVENTS_BYTES,
  MAX_RETRY_ATTEMPTS,
  MAX_TARGETS_PER_RULE,
  type EventBus,
  type EventTarget,
  type PutEventsEntry,
  type PutEventsResult,
  type PutEventsResultEntry,
  type RuleDefinition,
  type RuleDescription,
  type RuleRef,
} from '../../ports/event-bus.js';
import type { Queue } from '../../ports/queue.js';
import type { SqliteEngine } from './sqlite-engine.js';
import { SqliteQueue } from './sqlite-queue.js';

export interface LocalEventBusOptions {
  /** The events' `account`; default `000000000000`. */
  readonly account?: string;
  /** The events' `region`; default `us-east-1`. */
  readonly region?: string;
  /** PutEvents request size limit; default {@link MAX_PUT_EVENTS_BYTES}. */
  readonly maxRequestBytes?: number;
  /** How long undelivered events are kept, dead letters included (as a queue's retention). */
  readonly retentionSeconds: number;
  /** Visibility timeout of the router and target queues: how soon a delivery cut short by a crash is retried. Default 30. */
  readonly visibilityTimeoutSeconds?: number;
  /** Attempts to route an event (match it against the rules) before it is dead-lettered on the bus queue. Default 10. */
  readonly routerMaxReceiveCount?: number;
  readonly clock?: Clock;
}

/** A bus's router: the queue its accepted events wait on until they are matched against its rules. */
export interface RouterPlan {
  readonly busName: string;
  readonly queue: Queue;
}

/** A rule's target with the queue of events waiting to be delivered to it (its dead letters are the target's DLQ). */
export interface TargetPlan {
  readonly busName: string;
  readonly ruleName: string;
  readonly target: EventTarget;
  readonly queue: Queue;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS event_rules (
  bus         TEXT NOT NULL,
  name        TEXT NOT NULL,
  pattern     TEXT NOT NULL,
  state       TEXT NOT NULL,
  description TEXT,
  PRIMARY KEY (bus, name)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS event_targets (
  bus   TEXT NOT NULL,
  rule  TEXT NOT NULL,
  id    TEXT NOT NULL,
  queue TEXT NOT NULL UNIQUE,
  spec  TEXT NOT NULL,
  PRIMARY KEY (bus, rule, id)
) WITHOUT ROWID;
`;

/** Router queues are `events-<bus>`; a target queue may not take a name in that space. */
const ROUTER_PREFIX = 'events-';
// Reads any JSON object; used to check that a Detail is readable by the pattern matcher.
const ANY_EVENT = parseEventPattern('{"version":[{"exists":true}]}');
const MAX_COMPILED_PATTERNS = 1000;

/**
 * EventBridge on the embedded engine, durable end to end:
 * - `putEvents` turns each accepted entry into the full event envelope and sends it to the
 *   bus's router queue `events-<bus>` (a {@link SqliteQueue}): the promise resolves after the
 *   group commit's fsync, so an accepted event survives `kill -9`. A bus with no enabled rule
 *   drops its events (still answering an event id), as EventBridge does with unmatched events.
 * - {@link route} (run by a consumer of the router queue) matches an event against the bus's
 *   enabled rules and forwards it to the queue of each matching target, `<rule>-<target>`; all
 *   forwards of one event commit together.
 * - each target queue is consumed by the target's handler with the usual retries; after
 *   `maximumRetryAttempts` retries the event is dead-lettered on that queue (the target's DLQ).
 * Rules and targets live in the same database, so they survive a restart.
 */
export class LocalEventBus implements EventBus {
  private readonly account: string;
  private readonly region: string;
  private readonly maxRequestBytes: number;
  private readonly visibility: number;
  private readonly routerMaxReceiveCount: number;
  private readonly clock: Clock;
  private readonly sql: ReturnType<typeof prepare>;
  private readonly queues = new Map<string, SqliteQueue>();
  private readonly compiled = new Map<string, EventPattern>();

  constructor(
    private readonly engine: SqliteEngine,
    private readonly options: LocalEventBusOptions,
  ) {
    this.account = options.account ?? '000000000000';
    this.region = options.region ?? 'us-east-1';
    this.maxRequestBytes = options.maxRequestBytes ?? MAX_PUT_EVENTS_BYTES;
    this.visibility = options.visibilityTimeoutSeconds ?? 30;
    this.routerMaxReceiveCount = options.routerMaxReceiveCount ?? 10;
    this.clock = options.clock ?? systemClock;
    engine.db.exec(SCHEMA);
    this.sql = prepare(engine.db);
  }

  async putEvents(entries: readonly PutEventsEntry[]): Promise<PutEventsResult> {
    checkPutEventsRequest(entries, this.maxRequestBytes);
    const buses = entries.map((entry) => busNameOf(entry.eventBusName));
    const results: PutEventsResultEntry[] = [];
    const outgoing = new Map<string, string[]>();
    entries.forEach((entry, i) => {
      const failure = entryFailure(entry);
      if (failure !== undefined) return results.push(failure);
      const id = randomUUID();
      results.push({ eventId: id });
      const bus = buses[i]!;
      if (this.sql.anyEnabledRule.get(bus) === undefined) return; // nothing can match: dropped, as EventBridge does
      const bodies = outgoing.get(bus) ?? [];
      bodies.push(this.envelope(entry, id));
      outgoing.set(bus, bodies);
    });
    // Sends issued in one turn share one group commit: the whole call is durable at once.
    await Promise.all([...outgoing].map(([bus, bodies]) => this.routerQueue(bus).send(bodies.map((body) => ({ body })))));
    return { failedEntryCount: results.filter((r) => 'errorCode' in r).length, entries: results };
  }

  async putRule(rule: RuleDefinition): Promise<void> {
    const { busName: bus, state } = checkRuleDefinition(rule);
    this.compile(rule.eventPattern); // cached for routing
    await this.engine.write(() => this.sql.upsertRule.run({ bus, name: rule.name, pattern: rule.eventPattern, state, description: rule.description ?? null }));
  }

  async putTargets(ref: RuleRef, targets: readonly EventTarget[]): Promise<void> {
    const { busName: bus, ids } = checkTargets(ref, targets);
    await this.engine.write(() => {
      if (this.sql.getRule.get(bus, ref.name) === undefined) throw new NotFoundError(`Rule ${ref.name} does not exist on EventBus ${bus}.`);
      const kept = (this.sql.targetsOfRule.all(bus, ref.name) as TargetRow[]).filter((row) => !ids.has(row.id));
      if (kept.length + targets.length > MAX_TARGETS_PER_RULE) {
        throw new ValidationError(`The requested resource exceeds the maximum number allowed: a rule has at most ${MAX_TARGETS_PER_RULE} targets.`);
      }
      for (const target of targets) {
        const queue = targetQueueName(ref.name, target.id);
        const owner = this.sql.targetByQueue.get(queue) as TargetRow | undefined;
        if (owner !== undefined && (owner.bus !== bus || owner.rule !== ref.name || owner.id !== target.id)) {
          throw new ValidationError(
            `target ${target.id} of rule ${ref.name} would deliver through queue ${queue}, which target ${owner.id} of rule ${owner.rule} on bus ${owner.bus} uses; choose another rule name or target id`,
          );
        }
        this.sql.upsertTarget.run({ bus, rule: ref.name, id: target.id, queue, spec: JSON.stringify(target) });
      }
    });
  }

  async removeRule(ref: RuleRef): Promise<void> {
    const bus = busNameOf(ref.busName);
    await this.engine.write(() => {
      this.sql.deleteTargets.run(bus, ref.name);
      this.sql.deleteRule.run(bus, ref.name);
    });
  }

  async listRules(busName: string): Promise<RuleDescription[]> {
    const bus = busNameOf(busName);
    const rules = this.sql.rulesOfBus.all(bus) as RuleRow[];
    return rules.map((rule) => ({
      name: rule.name,
      busName: bus,
      eventPattern: rule.pattern,
      state: rule.state,
      ...(rule.description === null ? {} : { description: rule.description }),
      targets: (this.sql.targetsOfRule.all(bus, rule.name) as TargetRow[]).map((row) => JSON.parse(row.spec) as EventTarget),
    }));
  }

  /**
   * Matches one event (envelope JSON, as found on the router queue) against the bus's enabled
   * rules and forwards it to the queue of every target of every matching rule; resolves once
   * those forwards are durable. Returns how many targets it went to.
   */
  async route(busName: string, eventJson: string): Promise<number> {
    const rows = this.sql.enabledTargetsOfBus.all(busName) as Array<TargetRow & { pattern: string }>;
    const matches = new Map<string, boolean>();
    const deliveries: Array<Promise<string[]>> = [];
    for (const row of rows) {
      let matched = matches.get(row.rule);
      if (matched === undefined) {
        matched = matchesEventPattern(this.compile(row.pattern), eventJson);
        matches.set(row.rule, matched);
      }
      if (matched) deliveries.push(this.targetQueue(row).send([{ body: eventJson }]));
    }
    // Issued in one turn: all forwards of this event share one transaction.
    await Promise.all(deliveries);
    return deliveries.length;
  }

  /** What a runtime must consume: a router per bus that has rules, and every target's queue. */
  async deliveryPlan(): Promise<{ routers: RouterPlan[]; targets: TargetPlan[] }> {
    const buses = (this.sql.busesWithRules.all() as Array<{ bus: string }>).map((r) => r.bus);
    const targets = (this.sql.allTargets.all() as TargetRow[]).map((row) => ({
      busName: row.bus,
      ruleName: row.rule,
      target: JSON.parse(row.spec) as EventTarget,
      queue: this.targetQueue(row),
    }));
    return { routers: buses.map((busName) => ({ busName, queue: this.routerQueue(busName) })), targets };
  }

  /** The queue accepted events of `busName` wait on until routed. */
  routerQueue(busName: string): Queue {
    return this.queue(`${ROUTER_PREFIX}${busName}`, this.routerMaxReceiveCount);
  }

  /** Deletes events past their retention on every router and target queue; the runtime calls it periodically. */
  async sweepExpired(): Promise<number> {
    const plan = await this.deliveryPlan();
    const swept = await Promise.all([...plan.routers, ...plan.targets].map(({ queue }) => (queue as SqliteQueue).sweepExpired()));
    return swept.reduce((a, b) => a + b, 0);
  }

  private targetQueue(row: TargetRow): SqliteQueue {
    const target = JSON.parse(row.spec) as EventTarget;
    return this.queue(row.queue, (target.maximumRetryAttempts ?? MAX_RETRY_ATTEMPTS) + 1);
  }

  private queue(name: string, maxReceiveCount: number): SqliteQueue {
    const key = `${maxReceiveCount}:${name}`;
    let queue = this.queues.get(key);
    if (queue === undefined) {
      queue = new SqliteQueue(this.engine, {
        name,
        maxReceiveCount,
        visibilityTimeoutSeconds: this.visibility,
        retentionSeconds: this.options.retentionSeconds,
        clock: this.clock,
      });
      this.queues.set(key, queue);
    }
    return queue;
  }

  private compile(pattern: string): EventPattern {
    let compiled = this.compiled.get(pattern);
    if (compiled === undefined) {
      compiled = parseEventPattern(pattern);
      if (this.compiled.size >= MAX_COMPILED_PATTERNS) this.compiled.clear();
      this.compiled.set(pattern, compiled);
    }
    return compiled;
  }

  /** The event as EventBridge delivers it; `detail` is the entry's Detail text verbatim, so numbers keep their spelling. */
  private envelope(entry: PutEventsEntry, id: string): string {
    const head = JSON.stringify({
      version: '0',
      id,
      'detail-type': entry.detailType,
      source: entry.source,
      account: this.account,
      time: eventTime(entry.time ?? new Date(this.clock.now())),
      region: this.region,
      resources: [...(entry.resources ?? [])],
    });
    return `${head.slice(0, -1)},"detail":${entry.detail.trim()}}`;
  }
}

/** The per-entry failure EventBridge reports for `entry`, if any (same checks, same order, same wording). */
function entryFailure(entry: PutEventsEntry): PutEventsResultEntry | undefined {
  for (const [param, value] of [['Source', entry.source], ['DetailType', entry.detailType], ['Detail', entry.detail]] as const) {
    if (typeof value !== 'string' || value === '') {
      return { errorCode: 'InvalidArgument', errorMessage: `Parameter ${param} is not valid. Reason: ${param} is a required argument.` };
    }
  }
  if (entry.time !== undefined && Number.isNaN(entry.time.getTime())) {
    return { errorCode: 'InvalidArgument', errorMessage: 'Parameter Time is not valid. Reason: Time is not a valid timestamp.' };
  }
  if (!isJsonObjectText(entry.detail)) return { errorCode: 'MalformedDetail', errorMessage: 'Detail is malformed.' };
  return undefined;
}

/** Whether `text` is a JSON object that the pattern matcher (EventBridge's reader) can also read. */
function isJsonObjectText(text: string): boolean {
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
    matchesEventPattern(ANY_EVENT, `{"version":"0","detail":${text.trim()}}`);
    return true;
  } catch {
    return false;
  }
}

/** `time` as EventBridge writes it: UTC, to the second. */
function eventTime(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}


/** The queue a target's deliveries wait on (`<rule>-<target>`). */
function targetQueueName(rule: string, targetId: string): string {
  const name = `${rule}-${targetId}`;
  if (name.startsWith(ROUTER_PREFIX)) {
    throw new ValidationError(`target queue name ${name} is reserved for bus routers (${ROUTER_PREFIX}<bus>); choose another rule name or target id`);
  }
  return name;
}



function prepare(db: Database.Database) {
  return {
    upsertRule: db.prepare(
      `INSERT INTO event_rules (bus, name, pattern, state, description) VALUES (:bus, :name, :pattern, :state, :description)
       ON CONFLICT (bus, name) DO UPDATE SET pattern = excluded.pattern, state = excluded.state, description = excluded.description`,
    ),
    getRule: db.prepare('SELECT * FROM event_rules WHERE bus = ? AND name = ?'),
    rulesOfBus: db.prepare('SELECT * FROM event_rules WHERE bus = ? ORDER BY name'),
    anyEnabledRule: db.prepare("SELECT 1 FROM event_rules WHERE bus = ? AND state = 'ENABLED' LIMIT 1"),
    busesWithRules: db.prepare('SELECT DISTINCT bus FROM event_rules ORDER BY bus'),
    deleteRule: db.prepare('DELETE FROM event_rules WHERE bus = ? AND name = ?'),
    upsertTarget: db.prepare(
      `INSERT INTO event_targets (bus, rule, id, queue, spec) VALUES (:bus, :rule, :id, :queue, :spec)
       ON CONFLICT (bus, rule, id) DO UPDATE SET spec = excluded.spec`,
    ),
    targetByQueue: db.prepare('SELECT * FROM event_targets WHERE queue = ?'),
    targetsOfRule: db.prepare('SELECT * FROM event_targets WHERE bus = ? AND rule = ? ORDER BY id'),
    allTargets: db.prepare('SELECT * FROM event_targets ORDER BY bus, rule, id'),
    deleteTargets: db.prepare('DELETE FROM event_targets WHERE bus = ? AND rule = ?'),
    enabledTargetsOfBus: db.prepare(
      `SELECT t.*, r.pattern FROM event_targets t JOIN event_rules r ON r.bus = t.bus AND r.name = t.rule
       WHERE t.bus = ? AND r.state = 'ENABLED' ORDER BY t.rule, t.id`,
    ),
  };
}

interface RuleRow {
  bus: string;
  name: string;
  pattern: string;
  state: 'ENABLED' | 'DISABLED';
  description: string | null;
}

interface TargetRow {
  bus: string;
  rule: string;
  id: string;
  queue: string;
  spec: string;
}
