import * as z from 'zod';
import { ValidationError } from '../../errors.js';
import { systemClock, type Clock } from '../../ports/clock.js';
import type { PageKey } from '../shared/page-cursor.js';
import { isoTimestamp } from '../shared/timestamps.js';
import type { TaskChangeSignal } from './task-change-signal.js';
import { taskEventType, type TaskChange, type TaskEventType } from './task-events.js';
import type { Activity, Task } from './task-schemas.js';

/**
 * The change feed behind `GET /tasks/stream`: the activity history (one `task_activity` row per
 * committed change, written in the change's own transaction) read in `(created_at, id)` order
 * after a position. The history is the durable log; {@link TaskChangeSignal} only says "read now".
 *
 * ## Position
 * A position is the `(created_at, id)` key of the newest entry delivered (the high-water mark).
 * Clients see it as an opaque cursor ({@link encodeStreamPosition}: base64url of
 * `["<created_at>", "<id>"]`), the SSE `id:` of every message.
 *
 * ## Late commits, and the overlap window
 * `created_at` is taken inside the writing transaction, not at its commit, so an entry can become
 * visible after the reader has already passed its key: with several writers (PostgreSQL or DSQL,
 * several processes or regions) a transaction that started earlier commits later, clocks of
 * writers differ, a retried transaction keeps an earlier timestamp; even on SQLite, where writes
 * serialize, `nextActivityTime` may stamp an entry 1 ms ahead of the clock and the next task's
 * entry then sorts before it. So besides reading what follows the position, the feed re-reads
 * the **overlap window** — entries from `overlapMs` (default 5 s) before the position's
 * `created_at` up to the position — and delivers those it has not delivered yet, recognised by id
 * in a bounded set of ids already delivered within the window.
 *
 * That re-read runs when a change of this process reports a key at or before the position (at
 * once), and otherwise at most once per `pollMs` (default 1 s, which is also how soon changes
 * made by other processes are seen).
 *
 * **Guarantee, on one connection:** every entry whose `created_at` is no more than `overlapMs`
 * older than the position at the moment it becomes visible is delivered, exactly once; entries
 * after the position arrive in `(created_at, id)` order, late ones as soon as they are found
 * (so out of order, with the position unchanged). An entry later than the window (a transaction
 * that commits more than `overlapMs` after taking its timestamp, or a writer clock that lags by
 * more) is not delivered; it stays in the history (`GET /tasks/{id}/activity`). If more than
 * `maxRemembered` entries fall within the window (very high write rates), the oldest ids are
 * forgotten and the window shrinks to what is remembered: the feed never delivers twice, it
 * may then miss an entry later than the shrunken window.
 *
 * **On resume** (a new connection from a position) the feed delivers everything after the
 * position, exactly once, and counts the entries of the window before the position as delivered
 * (it cannot know which of them the previous connection sent; this is what makes a resume free
 * of duplicates). So an entry that commits late, before the position, while the client is
 * disconnected is not delivered on resume. Without a position the feed starts at the newest
 * entry: no replay.
 *
 * Everything is bounded: a read returns at most `pageSize` new entries (plus what a window
 * re-read finds, at most `maxRemembered + pageSize` rows scanned per read); the remembered ids
 * are at most `maxRemembered`; task snapshots held for the signal's changes at most `maxSnapshots`.
 *
 * @example
 * const feed = new TaskChangeFeed(tasks, signal, { taskId });
 * await feed.start(after);
 * while (!aborted) {
 *   for (const entry of await feed.read()) send(entry);
 *   if (!feed.hasMore) await feed.wait(15_000, abortSignal);
 * }
 * feed.close();
 */
export class TaskChangeFeed {
  private readonly options: Required<TaskChangeFeedOptions>;
  private readonly clock: Clock;
  private readonly taskId: string | undefined;
  private readonly unsubscribe: () => void;
  /** High-water mark: the key of the newest entry delivered (or the start). */
  private cursor: PageKey = BEGINNING;
  /** Ids delivered whose created_at is within the window (or above it), with their created_at. */
  private readonly delivered = new Map<string, string>();
  /** Entries at or below this key are not re-read (ids forgotten to stay within maxRemembered). */
  private forgottenThrough: PageKey | undefined;
  /** Where an unfinished window re-read continues (it is bounded per read). */
  private windowResume: PageKey | undefined;
  private windowDue = false;
  private lastWindowRead = Number.NEGATIVE_INFINITY;
  /** Tasks as of changes this process made, by activity id, until the entry is delivered. */
  private readonly snapshots = new Map<string, Task>();
  private dirty = false;
  private more = false;
  private closed = false;
  private started = false;
  private wake: (() => void) | undefined;

  /**
   * Subscribes to `signal` at once (so no change is missed between now and {@link start});
   * call {@link close} when done.
   */
  constructor(
    private readonly log: ActivityLog,
    signal: TaskChangeSignal | undefined,
    options: TaskChangeFeedOptions & { readonly taskId?: string; readonly clock?: Clock } = {},
  ) {
    const { taskId, clock, ...rest } = options;
    this.options = { ...DEFAULTS, ...definedOnly(rest) };
    this.clock = clock ?? systemClock;
    this.taskId = taskId;
    this.unsubscribe = signal === undefined ? () => undefined : signal.subscribe((change) => this.onChange(change));
  }

  /**
   * Positions the feed after `after` (a decoded position), or at the newest entry (no replay),
   * and counts the entries of the window before it as delivered.
   */
  async start(after?: PageKey): Promise<void> {
    if (this.started) throw new Error('feed already started');
    this.started = true;
    this.cursor = after ?? (await this.log.latestActivityKey(this.taskId)) ?? BEGINNING;
    for (const entry of await this.scanWindow()) this.remember(entry);
    if (this.windowResume !== undefined) {
      // More entries in the window than can be remembered: none before the start is re-read.
      this.windowResume = undefined;
      this.delivered.clear();
      this.forgottenThrough = this.cursor;
    }
    this.bound();
    this.lastWindowRead = this.clock.now();
    this.dirty = true;
  }

  /** The current position, as the opaque cursor clients send back. */
  get position(): string {
    return encodeStreamPosition(this.cursor);
  }

  /** True when the last read stopped at `pageSize` and more entries are waiting. */
  get hasMore(): boolean {
    return this.more;
  }

  /** How many delivered ids are remembered for the window (at most `maxRemembered`). */
  get remembered(): number {
    return this.delivered.size;
  }

  /**
   * One bounded read: entries of the window not delivered yet (when a re-read is due), then up
   * to `pageSize` entries after the position. Each entry is delivered once; an empty array when
   * nothing is new.
   */
  async read(): Promise<FeedEntry[]> {
    if (!this.started) throw new Error('start the feed first');
    this.dirty = false;
    const out: FeedEntry[] = [];
    const now = this.clock.now();
    if (this.windowDue || this.windowResume !== undefined || now - this.lastWindowRead >= this.options.pollMs) {
      this.windowDue = false;
      this.lastWindowRead = now;
      this.forgetBelowWindow();
      for (const activity of await this.scanWindow()) {
        if (this.delivered.has(activity.id)) continue;
        this.remember(activity);
        out.push(this.entry(activity, true));
      }
    }
    const fresh = await this.log.activityInOrder({ after: this.cursor, limit: this.options.pageSize, ...this.filter() });
    for (const activity of fresh) {
      this.cursor = keyOf(activity);
      if (this.delivered.has(activity.id)) continue;
      this.remember(activity);
      out.push(this.entry(activity, false));
    }
    this.more = fresh.length === this.options.pageSize || this.windowResume !== undefined;
    if (this.more) this.dirty = true;
    this.bound();
    return out;
  }

  /**
   * Resolves when a change of this process (for this feed's task) was signalled since the last
   * read, or after `min(maxMs, pollMs)`, or when `abort` fires, whichever comes first.
   */
  wait(maxMs: number, abort?: AbortSignal): Promise<void> {
    if (this.dirty || this.closed || abort?.aborted === true) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        abort?.removeEventListener('abort', done);
        this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, Math.min(maxMs, this.options.pollMs)));
      abort?.addEventListener('abort', done, { once: true });
      this.wake = done;
    });
  }

  /** Unsubscribes from the signal and releases a pending {@link wait}. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe();
    this.snapshots.clear();
    this.delivered.clear();
    this.wake?.();
  }

  private onChange(change: TaskChange): void {
    if (this.taskId !== undefined && change.task.id !== this.taskId) return;
    this.snapshots.set(change.activity.id, change.task);
    if (this.snapshots.size > this.options.maxSnapshots) this.snapshots.delete(this.snapshots.keys().next().value!);
    // A change at or before the position is a late one: re-read the window now, not at the next poll.
    if (compareKeys(keyOf(change.activity), this.cursor) <= 0) this.windowDue = true;
    this.dirty = true;
    this.wake?.();
  }

  /** Entries from the window's floor through the position, at most maxRemembered + pageSize rows. */
  private async scanWindow(): Promise<Activity[]> {
    const floor = this.windowFloor();
    let after = this.windowResume !== undefined && compareKeys(this.windowResume, floor) > 0 ? this.windowResume : floor;
    const found: Activity[] = [];
    const budget = this.options.maxRemembered + this.options.pageSize;
    for (let scanned = 0; scanned < budget; ) {
      const page = await this.log.activityInOrder({ after, through: this.cursor, limit: this.options.pageSize, ...this.filter() });
      found.push(...page);
      scanned += page.length;
      const last = page.at(-1);
      if (page.length < this.options.pageSize || last === undefined) {
        this.windowResume = undefined;
        return found;
      }
      after = keyOf(last);
    }
    this.windowResume = after;
    return found;
  }

  /** `overlapMs` before the position (inclusive), raised past anything forgotten. */
  private windowFloor(): PageKey {
    const byTime: PageKey = { createdAt: isoTimestamp(Date.parse(this.cursor.createdAt) - this.options.overlapMs), id: '' };
    return this.forgottenThrough !== undefined && compareKeys(this.forgottenThrough, byTime) > 0 ? this.forgottenThrough : byTime;
  }

  private remember(activity: Activity): void {
    this.delivered.set(activity.id, activity.created_at);
  }

  /** Drops ids below the window (they are never re-read). */
  private forgetBelowWindow(): void {
    const floor = this.windowFloor();
    for (const [id, createdAt] of this.delivered) if (compareKeys({ createdAt, id }, floor) <= 0) this.delivered.delete(id);
  }

  /** Keeps the remembered ids within maxRemembered: forgets the oldest quarter and raises the floor above them. */
  private bound(): void {
    if (this.delivered.size <= this.options.maxRemembered) return;
    this.forgetBelowWindow();
    if (this.delivered.size <= this.options.maxRemembered) return;
    const keys = [...this.delivered].map(([id, createdAt]) => ({ createdAt, id })).sort(compareKeys);
    const drop = keys.slice(0, keys.length - Math.floor((this.options.maxRemembered * 3) / 4));
    for (const key of drop) this.delivered.delete(key.id);
    this.forgottenThrough = drop.at(-1);
  }

  private entry(activity: Activity, late: boolean): FeedEntry {
    const task = this.snapshots.get(activity.id);
    this.snapshots.delete(activity.id);
    return { activity, eventType: streamEventType(activity), position: this.position, late, ...(task === undefined ? {} : { task }) };
  }

  private filter(): { taskId?: string } {
    return this.taskId === undefined ? {} : { taskId: this.taskId };
  }
}

/** What the feed reads: the activity history in `(created_at, id)` order (TaskService implements it). */
export interface ActivityLog {
  activityInOrder(query: { readonly after?: PageKey; readonly through?: PageKey; readonly taskId?: string; readonly limit: number }): Promise<Activity[]>;
  latestActivityKey(taskId?: string): Promise<PageKey | undefined>;
}

export interface TaskChangeFeedOptions {
  /** How far before the position entries are re-read for late commits (default 5,000 ms). */
  readonly overlapMs?: number;
  /** Longest wait between reads, and between window re-reads (default 1,000 ms). */
  readonly pollMs?: number;
  /** Most new entries one read returns (default 100). */
  readonly pageSize?: number;
  /**
   * Most delivered ids remembered for the window (default 2,000: about 300 KB per stream; the full
   * 5 s window holds up to a sustained 400 changes/s, beyond which it shrinks as described above).
   */
  readonly maxRemembered?: number;
  /** Most task snapshots held for signalled changes not yet delivered (default 256). */
  readonly maxSnapshots?: number;
}

/** The event type of a stream message: the task event types, and `task.commented`. */
export type TaskStreamEventType = TaskEventType | 'task.commented';

/** One entry of the feed. */
export interface FeedEntry {
  readonly activity: Activity;
  readonly eventType: TaskStreamEventType;
  /** The feed's position after this entry: resume from here to get what follows. */
  readonly position: string;
  /** Found by the window re-read (its key is before the position). */
  readonly late: boolean;
  /** The task as of this change (before it, for a delete), when the change was made in this process. */
  readonly task?: Task;
}

export function streamEventType(activity: Activity): TaskStreamEventType {
  // taskEventType looks at the activity only; the task is not needed to classify a change.
  return taskEventType({ activity } as TaskChange) ?? 'task.commented';
}

const DEFAULTS: Required<TaskChangeFeedOptions> = { overlapMs: 5_000, pollMs: 1_000, pageSize: 100, maxRemembered: 2_000, maxSnapshots: 256 };

/** Before every entry: the position of an empty history. */
const BEGINNING: PageKey = { createdAt: '1970-01-01T00:00:00.000Z', id: '00000000-0000-0000-0000-000000000000' };

const Position = z.tuple([z.iso.datetime({ precision: 3 }), z.uuid()]);

/** The opaque cursor of a position: base64url of `["<created_at>", "<id>"]`. */
export function encodeStreamPosition(key: PageKey): string {
  return Buffer.from(JSON.stringify([key.createdAt, key.id])).toString('base64url');
}

/** The position a cursor stands for; ValidationError (400) for anything this API did not hand out. */
export function decodeStreamPosition(cursor: string): PageKey {
  let payload: unknown;
  try {
    payload = cursor.length <= 512 && /^[A-Za-z0-9_-]+$/.test(cursor) ? JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) : undefined;
  } catch {
    payload = undefined;
  }
  const parsed = Position.safeParse(payload);
  if (!parsed.success) throw new ValidationError('invalid stream position (Last-Event-ID or after): pass the id of a message of this stream unchanged');
  return { createdAt: parsed.data[0], id: parsed.data[1] };
}

function keyOf(activity: Activity): PageKey {
  return { createdAt: activity.created_at, id: activity.id };
}

/** `(created_at, id)` order, as the SQL compares the text columns (both ASCII). */
export function compareKeys(a: PageKey, b: PageKey): number {
  if (a.createdAt !== b.createdAt) return a.createdAt < b.createdAt ? -1 : 1;
  return a.id === b.id ? 0 : a.id < b.id ? -1 : 1;
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
