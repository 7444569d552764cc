import { randomUUID } from 'node:crypto';
import { CreateEventBusCommand, ListTargetsByRuleCommand } from '@aws-sdk/client-eventbridge';
import { CreateQueueCommand, DeleteMessageBatchCommand, GetQueueAttributesCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEventBridgeClient, createSqsClient } from '../../src/adapters/aws/clients.js';
import { EventBridgeBus } from '../../src/adapters/aws/eventbridge-bus.js';
import { NotFoundError, ValidationError } from '../../src/errors.js';
import { MAX_PUT_EVENTS_BYTES, MAX_TARGETS_PER_RULE, type EventEnvelope, type EventTarget } from '../../src/ports/event-bus.js';
import { startMoto, type MotoServer } from '../support/moto.js';
import { describeEventBusContract, type EventBusFixture } from './event-bus.contract.js';

const REGION = 'us-east-1';

let moto: MotoServer;
beforeAll(async () => {
  moto = await startMoto();
});
afterAll(async () => moto?.stop());

/**
 * An EventBridgeBus on a fresh bus of its own on moto. A recording target is an SQS queue
 * (moto delivers matching events to SQS targets while it answers PutEvents); the fixture reads
 * that queue and parses the envelopes. Each bus and queue has a unique name and moto's state
 * ends with its process in afterAll, so there is nothing to dispose of.
 */
async function motoFixture(): Promise<EventBusFixture> {
  const options = { region: REGION, endpoint: moto.endpoint };
  const events = createEventBridgeClient(options);
  const sqs = createSqsClient(options);
  const busName = `contract-${randomUUID().slice(0, 8)}`;
  await events.send(new CreateEventBusCommand({ Name: busName }));

  interface Inbox {
    readonly url: string;
    readonly arn: string;
  }
  // Queues are created when a test asks for the target; the bus resolves the ARN once it exists.
  const inboxes = new Map<string, Promise<Inbox>>();
  const received = new Map<string, EventEnvelope[]>();
  const queueName = (targetId: string) => `${busName}-${targetId}`;
  const inbox = (queue: string): Promise<Inbox> => {
    let created = inboxes.get(queue);
    if (created === undefined) {
      created = (async () => {
        const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: queue }));
        const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
        return { url: QueueUrl!, arn: Attributes!.QueueArn! };
      })();
      inboxes.set(queue, created);
    }
    return created;
  };
  const bus = new EventBridgeBus({
    client: events,
    async targetArn(target: EventTarget) {
      if (target.kind !== 'queue') throw new Error(`the moto fixture has only queue targets, not ${target.kind}`);
      return (await inbox(target.queue)).arn;
    },
  });
  /** Moves whatever the target's queue holds into `received`. */
  const drain = async (targetId: string): Promise<void> => {
    const { url } = await inbox(queueName(targetId));
    for (;;) {
      const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
      if (Messages.length === 0) return;
      received.set(targetId, [...(received.get(targetId) ?? []), ...Messages.map((m) => JSON.parse(m.Body!) as EventEnvelope)]);
      await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: url, Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })) }));
    }
  };
  const unsupported = (what: string) => () => {
    throw new Error(`${what} is not possible on moto (capability not declared)`);
  };
  return {
    bus,
    busName,
    maxRequestBytes: MAX_PUT_EVENTS_BYTES,
    recordingTarget(id: string) {
      void inbox(queueName(id)).catch(() => undefined); // start creating it now; errors surface on use
      return { id, kind: 'queue', queue: queueName(id) };
    },
    failingTarget: unsupported('a failing target'),
    attempts: () => 0,
    async delivered(targetId, { atLeast = 1, timeoutMs = 5000 } = {}) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        await drain(targetId);
        if ((received.get(targetId)?.length ?? 0) >= atLeast || Date.now() >= until) return received.get(targetId) ?? [];
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    deadLetters: unsupported('reading a target’s dead-letter queue'),
    restart: unsupported('a restart'),
    dispose: async () => undefined,
  };
}

describeEventBusContract({
  name: 'AWS EventBridge (moto)',
  // The adapter checks request size and pattern operators itself, so those run here too.
  // Left out: deliversToLocalHandlers (targets are AWS resources; moto cannot stage a failing
  // target or run retries and dead-lettering), survivesRestart (moto keeps state in memory),
  // rejectsNonObjectDetail (moto accepts a Detail that is JSON but not an object),
  // skipsDisabledRules (moto delivers through a DISABLED rule), deliversAccount (moto's
  // envelope to an SQS target has no `account` field).
  capabilities: new Set(['enforcesRequestSizeLimit', 'validatesPatternOperators']),
  create: motoFixture,
});

// Adapter-only details: how targets map to EventBridge's Target and back.
describe('EventBridgeBus (moto): targets', () => {
  const setup = async () => {
    const client = createEventBridgeClient({ region: REGION, endpoint: moto.endpoint });
    const busName = `adapter-${randomUUID().slice(0, 8)}`;
    await client.send(new CreateEventBusCommand({ Name: busName }));
    const bus = new EventBridgeBus({
      client,
      targetArn: (t) => (t.kind === 'queue' ? `arn:aws:sqs:us-east-1:123456789012:${t.queue}` : `arn:aws:lambda:us-east-1:123456789012:function:${t.handler}`),
      deadLetterArn: (t, rule) => (t.kind === 'handler' ? `arn:aws:sqs:us-east-1:123456789012:${rule.name}-${t.id}-dlq` : undefined),
    });
    await bus.putRule({ name: 'rule', busName, eventPattern: '{"source":["x"]}' });
    return { client, bus, busName, rule: { name: 'rule', busName } };
  };

  it('sends Arn, RetryPolicy and DeadLetterConfig, and lists the targets back as they were put', async () => {
    const { client, bus, busName, rule } = await setup();
    const targets: EventTarget[] = [
      { id: 'fn', kind: 'handler', handler: 'task-processor', maximumRetryAttempts: 2 },
      { id: 'q', kind: 'queue', queue: 'inbox' },
    ];
    await bus.putTargets(rule, targets);
    const { Targets } = await client.send(new ListTargetsByRuleCommand({ Rule: 'rule', EventBusName: busName }));
    expect(Targets).toEqual([
      {
        Id: 'fn',
        Arn: 'arn:aws:lambda:us-east-1:123456789012:function:task-processor',
        RetryPolicy: { MaximumRetryAttempts: 2 },
        DeadLetterConfig: { Arn: 'arn:aws:sqs:us-east-1:123456789012:rule-fn-dlq' },
      },
      { Id: 'q', Arn: 'arn:aws:sqs:us-east-1:123456789012:inbox' },
    ]);
    expect((await bus.listRules(busName))[0]!.targets).toEqual(targets);
  });

  it(`refuses more than ${MAX_TARGETS_PER_RULE} targets on a rule, counting those it already has`, async () => {
    const { bus, rule } = await setup();
    const queue = (id: string): EventTarget => ({ id, kind: 'queue', queue: id });
    await bus.putTargets(rule, ['a', 'b', 'c', 'd'].map(queue));
    await expect(bus.putTargets(rule, [queue('e'), queue('f')])).rejects.toBeInstanceOf(ValidationError);
    await bus.putTargets(rule, [queue('a'), queue('e')]); // replacing a is not adding
    expect((await bus.listRules(rule.busName))[0]!.targets.map((t) => t.id)).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('answers NotFoundError for a bus that does not exist', async () => {
    const { bus } = await setup();
    await expect(bus.putEvents([{ source: 's', detailType: 't', detail: '{}', eventBusName: 'no-such-bus' }])).rejects.toBeInstanceOf(NotFoundError);
  });
});
