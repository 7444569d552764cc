import { randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';
import { systemClock, type Clock } from '../../ports/clock.js';
import {
  assertIntegerInRange,
  MAX_BATCH,
  MAX_DELAY_SECONDS,
  MAX_VISIBILITY_SECONDS,
  MAX_WAIT_SECONDS,
  type DeadLetter,
  type OutgoingMessage,
  type Queue,
  type QueueStats,
  type ReceivedMessage,
  type ReceiveOptions,
} from '../../ports/queue.js';
import { ConditionFailedError } from '../../errors.js';
import type { Item, Table, WriteOptions } from '../../ports/table.js';
import type { SqliteEngine } from './sqlite-engine.js';
import { SqliteTable } from './sqlite-table.js';

export interface SqliteQueueOptions {
  readonly name: string;
  readonly visibilityTimeoutSeconds: number;
  readonly maxReceiveCount: number;
  /** SQS default is 4 days; the recipes use 14 days (1,209,600 s). */
  readonly retentionSeconds: number;
  readonly clock?: Clock;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS queue_messages (
  seq           INTEGER PRIMARY KEY,
  queue         TEXT    NOT NULL,
  id            TEXT    NOT NULL,
  body          TEXT    NOT NULL,
  sent_at       INTEGER NOT NULL,
  visible_at    INTEGER NOT NULL,
  expires_at    INTEGER NOT NULL,
  receive_count INTEGER NOT NULL DEFAULT 0,
  receipt       TEXT,
  dead          INTEGER NOT NULL DEFAULT 0
);
-- Receives walk (queue, dead, visible_at, seq); receive_count and sent_at ride along so that
-- stats() counts from this index alone. They cost no extra writes: every statement that changes
-- them also moves the entry (visible_at). Replaces queue_messages_ready, which lacked them.
CREATE INDEX IF NOT EXISTS queue_messages_by_visibility ON queue_messages (queue, dead, visible_at, seq, receive_count, sent_at);
DROP INDEX IF EXISTS queue_messages_ready;
`;

// Long polls re-check at least this often, so a message made visible by another process
// (or by the clock) is not missed for long.
const MAX_POLL_SLEEP_MS = 250;

/**
 * SQS semantics on SQLite: visibility timeout, receive count, redrive to the dead-letter
 * partition once `maxReceiveCount` is exceeded, latest-receipt-only deletes, delay,
 * retention, long polling woken by sends in this process.
 */
export class SqliteQueue implements Queue {
  readonly name: string;
  readonly maxReceiveCount: number;
  private readonly options: SqliteQueueOptions;
  private readonly clock: Clock;
  private readonly waiters = new Set<() => void>();
  private readonly sql: ReturnType<typeof prepare>;

  constructor(private readonly engine: SqliteEngine, options: SqliteQueueOptions) {
    assertIntegerInRange('maxReceiveCount', options.maxReceiveCount, 1, 1000);
    assertIntegerInRange('visibilityTimeoutSeconds', options.visibilityTimeoutSeconds, 0, MAX_VISIBILITY_SECONDS);
    this.name = options.name;
    this.maxReceiveCount = options.maxReceiveCount;
    this.options = options;
    this.clock = options.clock ?? systemClock;
    engine.db.exec(SCHEMA);
    // Redriven messages get new ids, as SQS gives them (a redrive is a new send there).
    engine.db.function('spool_uuid', { deterministic: false }, () => randomUUID());
    this.sql = prepare(engine.db);
  }

  async send(messages: readonly OutgoingMessage[]): Promise<string[]> {
    const insert = this.stageSend(messages);
    await this.engine.write(insert);
    this.wake(messages.length);
    return insert.ids;
  }

  /** Validates `messages` and returns the step that inserts them inside a write, with their ids. */
  private stageSend(messages: readonly OutgoingMessage[]): (() => void) & { ids: string[] } {
    assertIntegerInRange('batch size', messages.length, 1, MAX_BATCH);
    for (const m of messages) assertIntegerInRange('delaySeconds', m.delaySeconds ?? 0, 0, MAX_DELAY_SECONDS);
    const now = this.clock.now();
    const expires = now + this.options.retentionSeconds * 1000;
    const ids = messages.map(() => randomUUID());
    const insert = () => {
      for (let i = 0; i < messages.length; i++) {
        const m = messages[i]!;
        this.sql.insert.run(this.name, ids[i], m.body, now, now + (m.delaySeconds ?? 0) * 1000, expires);
      }
    };
    return Object.assign(insert, { ids });
  }

  /**
   * Sends `messages` and puts `item` into `table` in one transaction, when the table lives in
   * the same database (else one after the other, messages first). The item is written only if
   * the messages are, and only if its conditions hold (a failed condition does not undo the
   * send: `itemWritten` says which); both are durable when the promise resolves. One commit and
   * one fsync wait instead of two in a row: what `JobService.submit` uses to accept a job.
   */
  async sendWithItem(
    messages: readonly OutgoingMessage[],
    table: Table,
    item: Item,
    options: WriteOptions = {},
  ): Promise<{ messageIds: string[]; itemWritten: boolean }> {
    if (!(table instanceof SqliteTable) || !table.isOn(this.engine)) {
      const messageIds = await this.send(messages);
      try {
        await table.put(item, options);
        return { messageIds, itemWritten: true };
      } catch (error) {
        if (error instanceof ConditionFailedError) return { messageIds, itemWritten: false };
        throw error;
      }
    }
    const insert = this.stageSend(messages);
    const put = table.stagePut(item, options);
    const itemWritten = await this.engine.write(() => {
      insert();
      return put();
    });
    this.wake(messages.length);
    return { messageIds: insert.ids, itemWritten };
  }

  async receive(options: ReceiveOptions = {}): Promise<ReceivedMessage[]> {
    const max = options.maxMessages ?? 1;
    const wait = options.waitTimeSeconds ?? 0;
    const visibility = options.visibilityTimeoutSeconds ?? this.options.visibilityTimeoutSeconds;
    assertIntegerInRange('maxMessages', max, 1, MAX_BATCH);
    assertIntegerInRange('waitTimeSeconds', wait, 0, MAX_WAIT_SECONDS);
    assertIntegerInRange('visibilityTimeoutSeconds', visibility, 0, MAX_VISIBILITY_SECONDS);
    const deadline = this.clock.now() + wait * 1000;
    for (;;) {
      // A cheap read first: an empty poll must not cost a transaction (and an fsync).
      if (this.sql.anyReady.get(this.name, this.clock.now()) !== undefined) {
        const received = await this.engine.write(() => this.claim(max, visibility));
        if (received.length > 0) return received;
      }
      const remaining = deadline - this.clock.now();
      if (remaining <= 0 || options.signal?.aborted) return [];
      await this.sleep(Math.min(remaining, this.untilNextVisible(), MAX_POLL_SLEEP_MS), options.signal);
    }
  }

  async delete(receiptHandles: readonly string[]): Promise<void> {
    assertIntegerInRange('batch size', receiptHandles.length, 1, MAX_BATCH);
    await this.engine.write(() => {
      for (const handle of receiptHandles) {
        const seq = seqOf(handle);
        if (seq !== undefined) this.sql.deleteByReceipt.run(seq, handle);
      }
    });
  }

  async changeVisibility(receiptHandle: string, timeoutSeconds: number): Promise<void> {
    assertIntegerInRange('visibilityTimeoutSeconds', timeoutSeconds, 0, MAX_VISIBILITY_SECONDS);
    const seq = seqOf(receiptHandle);
    if (seq === undefined) return;
    await this.engine.write(() => this.sql.setVisibility.run(this.clock.now() + timeoutSeconds * 1000, seq, receiptHandle));
    if (timeoutSeconds === 0) this.wake();
  }

  async stats(): Promise<QueueStats> {
    // Range counts on the covering index, not one pass evaluating expressions on every row:
    // a monitor polling a queue with a backlog of many thousand messages must stay cheap.
    const now = this.clock.now();
    const hidden = this.sql.countHidden.get(this.name, now) as { n: number; delayed: number | null };
    const oldest = (this.sql.oldest.get(this.name) as { at: number | null }).at;
    return {
      visible: (this.sql.countVisible.get(this.name, now) as { n: number }).n,
      inFlight: hidden.n - (hidden.delayed ?? 0),
      delayed: hidden.delayed ?? 0,
      deadLetters: (this.sql.countDead.get(this.name) as { n: number }).n,
      oldestAgeSeconds: oldest === null ? 0 : Math.floor((now - oldest) / 1000),
    };
  }

  async peekDeadLetters(limit: number): Promise<DeadLetter[]> {
    assertIntegerInRange('limit', limit, 1, 1000);
    const rows = this.sql.peekDead.all(this.name, limit) as MessageRow[];
    return rows.map((r) => ({ messageId: r.id, body: r.body, receiveCount: r.receive_count, sentAt: r.sent_at }));
  }

  async redrive(limit = 1000): Promise<number> {
    assertIntegerInRange('limit', limit, 1, 100_000);
    const moved = await this.engine.write(() => this.sql.redrive.run({ now: this.clock.now(), queue: this.name, limit }).changes);
    if (moved > 0) this.wake();
    return moved;
  }

  /** Deletes messages past their retention period, dead letters included; the runtime calls it periodically. */
  async sweepExpired(): Promise<number> {
    return this.engine.write(() => this.sql.sweep.run(this.name, this.clock.now()).changes);
  }

  /** Inside a write transaction: hands out up to `max` visible messages, dead-lettering and expiring on the way. */
  private claim(max: number, visibilitySeconds: number): ReceivedMessage[] {
    const now = this.clock.now();
    const out: ReceivedMessage[] = [];
    while (out.length < max) {
      const rows = this.sql.ready.all(this.name, now, max - out.length) as MessageRow[];
      if (rows.length === 0) break;
      for (const row of rows) {
        if (row.expires_at <= now) {
          this.sql.deleteBySeq.run(row.seq);
        } else if (row.receive_count >= this.maxReceiveCount) {
          // SQS moves a message once an attempted receive would exceed maxReceiveCount.
          this.sql.kill.run(now, row.seq);
        } else {
          const receipt = `${row.seq}.${randomUUID()}`;
          this.sql.claim.run(receipt, now + visibilitySeconds * 1000, row.seq);
          out.push({ messageId: row.id, body: row.body, receiptHandle: receipt, receiveCount: row.receive_count + 1, sentAt: row.sent_at });
        }
      }
    }
    return out;
  }

  private untilNextVisible(): number {
    const row = this.sql.nextVisible.get(this.name) as { at: number | null };
    return row.at === null ? MAX_POLL_SLEEP_MS : Math.max(1, row.at - this.clock.now());
  }

  /**
   * Wakes up to `count` long polls (one per message made visible), not all of them: with several
   * consumers waiting, waking every one for each message had them all look and all but one find
   * nothing. A woken poll that finds nothing sleeps again; every poll re-checks within 250 ms anyway.
   */
  private wake(count = Number.POSITIVE_INFINITY): void {
    let woken = 0;
    for (const w of this.waiters) {
      if (woken++ >= count) break;
      w();
    }
  }

  private sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.waiters.delete(done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.waiters.add(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }
}

function seqOf(receiptHandle: string): number | undefined {
  const seq = Number(receiptHandle.slice(0, receiptHandle.indexOf('.')));
  return Number.isSafeInteger(seq) && seq > 0 ? seq : undefined;
}

function prepare(db: Database.Database) {
  return {
    insert: db.prepare('INSERT INTO queue_messages (queue, id, body, sent_at, visible_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)'),
    anyReady: db.prepare('SELECT 1 FROM queue_messages WHERE queue = ? AND dead = 0 AND visible_at <= ? LIMIT 1'),
    ready: db.prepare('SELECT * FROM queue_messages WHERE queue = ? AND dead = 0 AND visible_at <= ? ORDER BY visible_at, seq LIMIT ?'),
    claim: db.prepare('UPDATE queue_messages SET receipt = ?, visible_at = ?, receive_count = receive_count + 1 WHERE seq = ?'),
    kill: db.prepare('UPDATE queue_messages SET dead = 1, visible_at = ?, receipt = NULL WHERE seq = ?'),
    sweep: db.prepare('DELETE FROM queue_messages WHERE queue = ? AND expires_at <= ?'),
    deleteBySeq: db.prepare('DELETE FROM queue_messages WHERE seq = ?'),
    deleteByReceipt: db.prepare('DELETE FROM queue_messages WHERE seq = ? AND receipt = ?'),
    setVisibility: db.prepare('UPDATE queue_messages SET visible_at = ? WHERE seq = ? AND receipt = ? AND dead = 0'),
    nextVisible: db.prepare('SELECT MIN(visible_at) AS at FROM queue_messages WHERE queue = ? AND dead = 0'),
    peekDead: db.prepare('SELECT * FROM queue_messages WHERE queue = ? AND dead = 1 ORDER BY visible_at, seq LIMIT ?'),
    redrive: db.prepare(
      `UPDATE queue_messages SET dead = 0, receive_count = 0, visible_at = :now, receipt = NULL, id = spool_uuid()
       WHERE seq IN (SELECT seq FROM queue_messages WHERE queue = :queue AND dead = 1 ORDER BY visible_at, seq LIMIT :limit)`,
    ),
    countVisible: db.prepare('SELECT COUNT(*) AS n FROM queue_messages WHERE queue = ? AND dead = 0 AND visible_at <= ?'),
    countHidden: db.prepare('SELECT COUNT(*) AS n, SUM(receive_count = 0) AS delayed FROM queue_messages WHERE queue = ? AND dead = 0 AND visible_at > ?'),
    countDead: db.prepare('SELECT COUNT(*) AS n FROM queue_messages WHERE queue = ? AND dead = 1'),
    oldest: db.prepare('SELECT MIN(sent_at) AS at FROM queue_messages WHERE queue = ? AND dead = 0'),
  };
}

interface MessageRow {
  seq: number;
  id: string;
  body: string;
  sent_at: number;
  visible_at: number;
  expires_at: number;
  receive_count: number;
}
