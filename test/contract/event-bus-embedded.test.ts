import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { expect, it } from 'vitest';
import { LocalEventBus } from '../../src/adapters/embedded/local-event-bus.js';
import { SqliteEngine } from '../../src/adapters/embedded/sqlite-engine.js';
import { MAX_PUT_EVENTS_BYTES, type EventEnvelope, type EventHandler } from '../../src/ports/event-bus.js';
import type { Notification, Topic } from '../../src/ports/topic.js';
import { createEventBusConsumers } from '../../src/runtime/event-bus-consumers.js';
import { drainUntil } from '../support/drain-consumers.js';
import { describeEventBusContract, type EventBusFixture } from './event-bus.contract.js';

/** A LocalEventBus on a fresh database file, with recording and failing handlers and a drain loop standing in for the event sources. */
function embeddedFixture(): EventBusFixture & { readonly alerts: Notification[] } {
  const dir = mkdtempSync(join(tmpdir(), 'spool-event-bus-'));
  const path = join(dir, 'spool.db');
  let engine = SqliteEngine.open(path);
  const open = () => new LocalEventBus(engine, { retentionSeconds: 1_209_600, visibilityTimeoutSeconds: 1 });
  let bus = open();
  const handlers = new Map<string, EventHandler>();
  const received = new Map<string, EventEnvelope[]>();
  const attempts = new Map<string, number>();
  const alerts: Notification[] = [];
  const topic: Topic = { name: 'alerts', publish: async (n) => (alerts.push(n), 'alert-id') };
  const consumers = () =>
    createEventBusConsumers(bus, { handlers, queues: new Map(), alerts: topic, logger: pino({ level: 'silent' }), retryBaseSeconds: 0, maxRetryDelaySeconds: 0 });
  const fixture = {
    get bus() {
      return bus;
    },
    busName: 'contract-bus',
    maxRequestBytes: MAX_PUT_EVENTS_BYTES,
    alerts,
    recordingTarget(id: string) {
      handlers.set(`record-${id}`, async (event) => void received.set(id, [...(received.get(id) ?? []), event]));
      return { id, kind: 'handler', handler: `record-${id}` } as const;
    },
    failingTarget(id: string, maximumRetryAttempts: number) {
      handlers.set(`fail-${id}`, async () => {
        attempts.set(id, (attempts.get(id) ?? 0) + 1);
        throw new Error(`target ${id} is down`);
      });
      return { id, kind: 'handler', handler: `fail-${id}`, maximumRetryAttempts } as const;
    },
    attempts: (targetId: string) => attempts.get(targetId) ?? 0,
    async delivered(targetId: string, { atLeast = 1, timeoutMs = 5000 } = {}) {
      await drainUntil(consumers, () => (received.get(targetId)?.length ?? 0) >= atLeast, timeoutMs);
      return received.get(targetId) ?? [];
    },
    async deadLetters(rule: { name: string; busName?: string }, targetId: string, { atLeast = 1, timeoutMs = 5000 } = {}) {
      const queueOf = async () => {
        const { targets } = await bus.deliveryPlan();
        return targets.find((t) => t.ruleName === rule.name && t.busName === (rule.busName ?? 'default') && t.target.id === targetId)!.queue;
      };
      await drainUntil(consumers, async () => (await (await queueOf()).peekDeadLetters(10)).length >= atLeast, timeoutMs);
      return (await (await queueOf()).peekDeadLetters(10)).map((m) => JSON.parse(m.body) as EventEnvelope);
    },
    async restart() {
      // Like a crash as far as one process can stage it: the connection goes away without the
      // engine's final flush, so only what was committed before putEvents resolved survives.
      engine.db.close();
      engine = SqliteEngine.open(path);
      bus = open();
    },
    async dispose() {
      engine.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return fixture;
}

describeEventBusContract({
  name: 'embedded SQLite',
  capabilities: new Set(['deliversToLocalHandlers', 'survivesRestart', 'enforcesRequestSizeLimit', 'rejectsNonObjectDetail', 'validatesPatternOperators', 'skipsDisabledRules', 'deliversAccount']),
  create: async () => embeddedFixture(),
});

// Embedded-only details: the alert on the final attempt and the queue names, which the admin endpoints show.
it('embedded: alerts once when a target’s last attempt fails, and names queues events-<bus> and <rule>-<target>', async () => {
  const fixture = embeddedFixture();
  try {
    await fixture.bus.putRule({ name: 'task-processing-rule', busName: 'task-events-dev', eventPattern: '{"source":["task.management"]}' });
    await fixture.bus.putTargets({ name: 'task-processing-rule', busName: 'task-events-dev' }, [fixture.failingTarget('task-processor', 0)]);
    await fixture.bus.putEvents([{ source: 'task.management', detailType: 'Task Created', detail: '{}', eventBusName: 'task-events-dev' }]);
    expect(await fixture.deadLetters({ name: 'task-processing-rule', busName: 'task-events-dev' }, 'task-processor')).toHaveLength(1);
    expect(fixture.alerts.map((a) => a.subject)).toEqual(['[spool] task-processing-rule-task-processor: message dead-lettered']);
    const plan = await (fixture.bus as LocalEventBus).deliveryPlan();
    expect(plan.routers.map((r) => r.queue.name)).toEqual(['events-task-events-dev']);
    expect(plan.targets.map((t) => t.queue.name)).toEqual(['task-processing-rule-task-processor']);
  } finally {
    await fixture.dispose();
  }
});

it('embedded: refuses a target whose queue name another target already uses', async () => {
  const fixture = embeddedFixture();
  try {
    for (const busName of ['a', 'b']) await fixture.bus.putRule({ name: 'rule', busName, eventPattern: '{"source":["x"]}' });
    await fixture.bus.putTargets({ name: 'rule', busName: 'a' }, [fixture.recordingTarget('t')]);
    await expect(fixture.bus.putTargets({ name: 'rule', busName: 'b' }, [fixture.recordingTarget('t')])).rejects.toThrow(/uses; choose another/);
    // Replacing the same target is fine.
    await fixture.bus.putTargets({ name: 'rule', busName: 'a' }, [{ ...fixture.recordingTarget('t'), maximumRetryAttempts: 3 }]);
    expect((await fixture.bus.listRules('a'))[0]!.targets).toEqual([{ id: 't', kind: 'handler', handler: 'record-t', maximumRetryAttempts: 3 }]);
  } finally {
    await fixture.dispose();
  }
});
