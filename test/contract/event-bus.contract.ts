import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NotFoundError, ValidationError } from '../../src/errors.js';
import type { EventBus, EventEnvelope, EventTarget, PutEventsEntry, RuleRef } from '../../src/ports/event-bus.js';

/**
 * Behaviour a backend may genuinely lack; a test that needs one is skipped by name, and reported.
 * - `deliversToLocalHandlers`: targets can be in-process handlers, so a failing target can be staged (moto cannot).
 * - `survivesRestart`: the fixture can stop and restart the backend on the same data.
 * - `enforcesRequestSizeLimit`: PutEvents refuses a request over the size limit (moto does not).
 * - `rejectsNonObjectDetail`: a Detail that is JSON but not an object fails its entry (moto accepts it).
 * - `validatesPatternOperators`: PutRule checks operators (`prefix`, `numeric`, ...), not only the shape (moto checks the shape).
 * - `skipsDisabledRules`: a DISABLED rule delivers nothing (moto's PutEvents sends through every rule whatever its state).
 * - `deliversAccount`: the delivered envelope carries the `account` field (moto's default target input
 *   template leaves it out, though the event it routes has it).
 */
export type EventBusCapability =
  | 'deliversToLocalHandlers'
  | 'survivesRestart'
  | 'enforcesRequestSizeLimit'
  | 'rejectsNonObjectDetail'
  | 'validatesPatternOperators'
  | 'skipsDisabledRules'
  | 'deliversAccount';

export interface DeliveryWait {
  /** Default 1. */
  readonly atLeast?: number;
  /** Default 5000. */
  readonly timeoutMs?: number;
}

export interface EventBusFixture {
  /** Replaced by {@link restart}. */
  readonly bus: EventBus;
  /** A bus that exists on the backend and has no rules yet. */
  readonly busName: string;
  /** The backend's PutEvents request size limit, in bytes. */
  readonly maxRequestBytes: number;
  /** A target that records every event it receives (a local handler, or a queue the fixture reads). */
  recordingTarget(id: string): EventTarget;
  /** A target whose every delivery fails; needs `deliversToLocalHandlers`. */
  failingTarget(id: string, maximumRetryAttempts: number): EventTarget;
  /** How many deliveries a failing target has seen. */
  attempts(targetId: string): number;
  /** Drives delivery (at least one pass) until the recording target `targetId` has `atLeast` events or the time is up; returns what it has. */
  delivered(targetId: string, wait?: DeliveryWait): Promise<EventEnvelope[]>;
  /** Drives delivery until the dead-letter queue of the target holds `atLeast` events; returns them. */
  deadLetters(rule: RuleRef, targetId: string, wait?: DeliveryWait): Promise<EventEnvelope[]>;
  /** Stops the backend abruptly (nothing pending is flushed) and starts it again on the same data; needs `survivesRestart`. */
  restart(): Promise<void>;
  dispose(): Promise<void>;
}

export interface EventBusBackend {
  readonly name: string;
  readonly capabilities: ReadonlySet<EventBusCapability>;
  create(): Promise<EventBusFixture>;
}

const TASK_PATTERN = '{"source":["task.management"],"detail-type":["Task Created","Task Updated","Task Completed","Task Deleted"]}';
const TASK_DETAIL = { eventType: 'task.created', taskData: { title: 'Test Task', created_by: 'test@example.com' } };

/** The EventBridge semantics Spool relies on; every EventBus adapter must pass it. */
export function describeEventBusContract(backend: EventBusBackend): void {
  const needs = (capability: EventBusCapability) => (backend.capabilities.has(capability) ? it : it.skip);

  describe(`EventBus contract: ${backend.name}`, () => {
    let fixture: EventBusFixture;
    let busName: string;
    const entry = (overrides: Partial<PutEventsEntry> = {}): PutEventsEntry => ({
      source: 'task.management',
      detailType: 'Task Created',
      detail: JSON.stringify(TASK_DETAIL),
      eventBusName: busName,
      ...overrides,
    });
    const eventIdOf = (result: { entries: readonly object[] }, i = 0): string => {
      const first = result.entries[i] as { eventId?: string };
      expect(first.eventId).toEqual(expect.any(String));
      return first.eventId!;
    };
    const ruleTo = async (name: string, target: EventTarget, eventPattern = TASK_PATTERN) => {
      await fixture.bus.putRule({ name, busName, eventPattern });
      await fixture.bus.putTargets({ name, busName }, [target]);
    };

    beforeEach(async () => {
      fixture = await backend.create();
      busName = fixture.busName;
    });
    afterEach(async () => fixture.dispose());

    describe('PutEvents', () => {
      it('accepts one entry and answers its event id', async () => {
        const result = await fixture.bus.putEvents([entry()]);
        expect(result.failedEntryCount).toBe(0);
        expect(result.entries).toHaveLength(1);
        eventIdOf(result);
      });

      it('accepts 10 entries with 10 distinct event ids, in input order', async () => {
        const result = await fixture.bus.putEvents(Array.from({ length: 10 }, (_, i) => entry({ detail: `{"n":${i}}` })));
        expect(result.failedEntryCount).toBe(0);
        const ids = result.entries.map((_, i) => eventIdOf(result, i));
        expect(new Set(ids).size).toBe(10);
      });

      it('rejects the whole call with more than 10 entries, or none', async () => {
        await expect(fixture.bus.putEvents(Array.from({ length: 11 }, () => entry()))).rejects.toBeInstanceOf(ValidationError);
        await expect(fixture.bus.putEvents([])).rejects.toBeInstanceOf(ValidationError);
      });

      it('accepts an event for a bus without rules (EventBridge answers an id and drops it)', async () => {
        const result = await fixture.bus.putEvents([entry({ source: 'nobody.listens' })]);
        expect(result.failedEntryCount).toBe(0);
      });

      it('fails only the entry whose Detail is not JSON, with MalformedDetail, in its own place', async () => {
        const result = await fixture.bus.putEvents([entry(), entry({ detail: '{"broken": ' }), entry()]);
        expect(result.failedEntryCount).toBe(1);
        expect(result.entries[1]).toEqual({ errorCode: 'MalformedDetail', errorMessage: 'Detail is malformed.' });
        eventIdOf(result, 0);
        eventIdOf(result, 2);
      });

      needs('rejectsNonObjectDetail')('fails an entry whose Detail is JSON but not an object', async () => {
        const result = await fixture.bus.putEvents([entry({ detail: '[1,2]' }), entry({ detail: '"text"' }), entry({ detail: 'null' })]);
        expect(result.failedEntryCount).toBe(3);
        for (const e of result.entries) expect(e).toEqual({ errorCode: 'MalformedDetail', errorMessage: 'Detail is malformed.' });
      });

      it('fails entries missing Source, DetailType or Detail with InvalidArgument', async () => {
        const result = await fixture.bus.putEvents([entry({ source: '' }), entry({ detailType: '' }), entry({ detail: '' }), entry()]);
        expect(result.failedEntryCount).toBe(3);
        expect(result.entries.slice(0, 3)).toEqual([
          { errorCode: 'InvalidArgument', errorMessage: 'Parameter Source is not valid. Reason: Source is a required argument.' },
          { errorCode: 'InvalidArgument', errorMessage: 'Parameter DetailType is not valid. Reason: DetailType is a required argument.' },
          { errorCode: 'InvalidArgument', errorMessage: 'Parameter Detail is not valid. Reason: Detail is a required argument.' },
        ]);
        eventIdOf(result, 3);
      });

      needs('enforcesRequestSizeLimit')('counts entry sizes as EventBridge does and refuses a request over the limit as a whole', async () => {
        const limit = fixture.maxRequestBytes;
        // Source (1) + DetailType (1) + Detail ({"p":"…"} = 8 + padding) + Time (14) + one resource (3).
        const sized = (bytes: number): PutEventsEntry =>
          entry({ source: 's', detailType: 't', time: new Date('2024-05-01T12:00:00Z'), resources: ['arn'], detail: JSON.stringify({ p: 'x'.repeat(bytes - 27) }) });
        expect((await fixture.bus.putEvents([sized(limit)])).failedEntryCount).toBe(0);
        await expect(fixture.bus.putEvents([sized(limit + 1)])).rejects.toThrow(/Total size of the entries in the request is over the limit/);
        // Two entries each under the limit, over it together: the whole call fails.
        const half = Math.floor(limit / 2) + 1;
        await expect(fixture.bus.putEvents([sized(half), sized(half)])).rejects.toBeInstanceOf(ValidationError);
        // Multi-byte characters count by their UTF-8 length.
        const euro = entry({ source: 's', detailType: 't', detail: `{"p":"${'€'.repeat(Math.ceil(limit / 3))}"}` });
        await expect(fixture.bus.putEvents([euro])).rejects.toBeInstanceOf(ValidationError);
      });
    });

    describe('rules', () => {
      it('rejects a rule whose pattern EventBridge would refuse', async () => {
        for (const bad of ['{"source":"task.management"}', '{"source":[]}', '{"source":', '[]']) {
          await expect(fixture.bus.putRule({ name: 'bad', busName, eventPattern: bad }), bad).rejects.toBeInstanceOf(ValidationError);
        }
        expect(await fixture.bus.listRules(busName)).toEqual([]);
      });

      needs('validatesPatternOperators')('rejects a pattern with a malformed operator, in EventBridge words', async () => {
        await expect(fixture.bus.putRule({ name: 'bad', busName, eventPattern: '{"detail":{"n":[{"numeric":[">"]}]}}' })).rejects.toThrow(/Event pattern is not valid/);
        await expect(fixture.bus.putRule({ name: 'bad', busName, eventPattern: '{"source":[{"nonsense":"x"}]}' })).rejects.toBeInstanceOf(ValidationError);
      });

      it('lists a rule with its targets; putting the rule again keeps them', async () => {
        await ruleTo('task-processing-rule', fixture.recordingTarget('processor'));
        await fixture.bus.putRule({ name: 'task-processing-rule', busName, eventPattern: '{"source":["task.management"]}', description: 'tasks' });
        const [rule, ...others] = await fixture.bus.listRules(busName);
        expect(others).toEqual([]);
        expect(rule).toMatchObject({ name: 'task-processing-rule', busName, eventPattern: '{"source":["task.management"]}', state: 'ENABLED', description: 'tasks' });
        expect(rule!.targets.map((t) => t.id)).toEqual(['processor']);
      });

      it('refuses targets for a rule that does not exist', async () => {
        await expect(fixture.bus.putTargets({ name: 'missing', busName }, [fixture.recordingTarget('t')])).rejects.toBeInstanceOf(NotFoundError);
      });
    });

    describe('delivery', () => {
      it('delivers a matching event to the target as the full EventBridge envelope', async () => {
        await ruleTo('task-processing-rule', fixture.recordingTarget('processor'));
        const time = new Date('2024-05-01T12:34:56.789Z');
        const result = await fixture.bus.putEvents([entry({ time, resources: ['arn:aws:s3:::bucket'] })]);
        const [event, ...more] = await fixture.delivered('processor');
        expect(more).toEqual([]);
        expect(event).toMatchObject({
          version: '0',
          id: eventIdOf(result),
          'detail-type': 'Task Created',
          source: 'task.management',
          time: '2024-05-01T12:34:56Z',
          resources: ['arn:aws:s3:::bucket'],
          detail: TASK_DETAIL,
        });
        expect(event!.region).toMatch(/^[a-z]{2}(-[a-z]+)+-\d$/);
      });

      needs('deliversAccount')('delivers the envelope with the account it was put in', async () => {
        await ruleTo('task-processing-rule', fixture.recordingTarget('processor'));
        await fixture.bus.putEvents([entry()]);
        const [event] = await fixture.delivered('processor');
        expect(event!.account).toMatch(/^\d{12}$/);
      });

      it('stamps an event without Time with the time it was accepted, to the second', async () => {
        await ruleTo('task-processing-rule', fixture.recordingTarget('processor'));
        const before = Math.floor(Date.now() / 1000) * 1000;
        await fixture.bus.putEvents([entry()]);
        const [event] = await fixture.delivered('processor');
        expect(event!.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
        expect(Date.parse(event!.time)).toBeGreaterThanOrEqual(before - 5000);
        expect(Date.parse(event!.time)).toBeLessThanOrEqual(Date.now() + 5000);
      });

      it('does not deliver an event the pattern does not match', async () => {
        await ruleTo('task-processing-rule', fixture.recordingTarget('processor'));
        await fixture.bus.putEvents([entry({ source: 'billing' }), entry({ detailType: 'Task Archived' })]);
        // A matching event put afterwards marks the point by which the others were routed.
        await fixture.bus.putEvents([entry({ detail: '{"marker":true}' })]);
        const delivered = await fixture.delivered('processor');
        expect(delivered.map((e) => e.detail)).toEqual([{ marker: true }]);
        expect(await fixture.delivered('processor', { atLeast: 2, timeoutMs: 500 })).toHaveLength(1);
      });

      it('delivers an event matched by two rules to both targets', async () => {
        await ruleTo('task-processing-rule', fixture.recordingTarget('processor'));
        await ruleTo('task-audit-rule', fixture.recordingTarget('audit'), '{"detail":{"taskData":{"created_by":[{"suffix":"@example.com"}]}}}');
        const result = await fixture.bus.putEvents([entry()]);
        const id = eventIdOf(result);
        expect((await fixture.delivered('processor')).map((e) => e.id)).toEqual([id]);
        expect((await fixture.delivered('audit')).map((e) => e.id)).toEqual([id]);
      });

      it('delivers to every target of a rule', async () => {
        await fixture.bus.putRule({ name: 'fan-out', busName, eventPattern: TASK_PATTERN });
        await fixture.bus.putTargets({ name: 'fan-out', busName }, [fixture.recordingTarget('one'), fixture.recordingTarget('two')]);
        await fixture.bus.putEvents([entry()]);
        expect(await fixture.delivered('one')).toHaveLength(1);
        expect(await fixture.delivered('two')).toHaveLength(1);
      });

      it('stops delivering once the rule is removed', async () => {
        await ruleTo('task-processing-rule', fixture.recordingTarget('processor'));
        await fixture.bus.removeRule({ name: 'task-processing-rule', busName });
        await fixture.bus.removeRule({ name: 'task-processing-rule', busName }); // removing a missing rule is fine
        await fixture.bus.putEvents([entry()]);
        expect(await fixture.delivered('processor', { timeoutMs: 500 })).toEqual([]);
        expect(await fixture.bus.listRules(busName)).toEqual([]);
      });

      needs('skipsDisabledRules')('delivers nothing through a disabled rule', async () => {
        await ruleTo('task-processing-rule', fixture.recordingTarget('processor'));
        await fixture.bus.putRule({ name: 'task-processing-rule', busName, eventPattern: TASK_PATTERN, state: 'DISABLED' });
        await fixture.bus.putEvents([entry()]);
        expect(await fixture.delivered('processor', { timeoutMs: 500 })).toEqual([]);
      });

      needs('survivesRestart')('delivers an accepted event after a restart (it was durable when putEvents resolved)', async () => {
        await ruleTo('task-processing-rule', fixture.recordingTarget('processor'));
        const result = await fixture.bus.putEvents([entry(), entry({ detail: '{"second":true}' })]);
        await fixture.restart();
        const delivered = await fixture.delivered('processor', { atLeast: 2 });
        expect(delivered.map((e) => e.id).sort()).toEqual([eventIdOf(result, 0), eventIdOf(result, 1)].sort());
        expect((await fixture.bus.listRules(busName)).map((r) => r.name)).toEqual(['task-processing-rule']);
      });

      needs('deliversToLocalHandlers')('retries a failing target, then moves the event to that target’s dead-letter queue', async () => {
        await ruleTo('task-processing-rule', fixture.failingTarget('flaky', 2));
        await ruleTo('task-audit-rule', fixture.recordingTarget('audit'));
        const id = eventIdOf(await fixture.bus.putEvents([entry()]));
        const dead = await fixture.deadLetters({ name: 'task-processing-rule', busName }, 'flaky');
        expect(dead.map((e) => e.id)).toEqual([id]);
        expect(fixture.attempts('flaky')).toBe(3); // the first delivery and 2 retries
        // The other rule's target is not affected.
        expect((await fixture.delivered('audit')).map((e) => e.id)).toEqual([id]);
      });
    });
  });
}
