import type { Logger } from 'pino';
import type { LocalEventBus } from '../adapters/embedded/local-event-bus.js';
import { ConfigError } from '../errors.js';
import type { EventEnvelope, EventHandler } from '../ports/event-bus.js';
import type { Queue } from '../ports/queue.js';
import type { Topic } from '../ports/topic.js';
import type { BatchPolicy, RecordHandler } from '../workers/queue-record.js';
import type { Consumer } from './consumers.js';

export interface EventBusConsumerDeps {
  /** Handlers that `handler` targets name. */
  readonly handlers: ReadonlyMap<string, EventHandler>;
  /** Queues that `queue` targets name. */
  readonly queues: ReadonlyMap<string, Queue>;
  readonly alerts: Topic;
  readonly logger: Logger;
  /** First retry delay of a failed delivery (whole seconds); doubles per attempt up to `maxRetryDelaySeconds`. */
  readonly retryBaseSeconds: number;
  readonly maxRetryDelaySeconds: number;
}

/**
 * The consumers that make the embedded event bus deliver, to run like any other queue consumer
 * (QueueEventSource locally): one router per bus that has rules (it matches each accepted event
 * against the rules and forwards it to the matching targets' queues) and one per target (it hands
 * the event to the target's handler, or sends it to the target's queue, with retries, alerting on
 * the last attempt, then the target's dead-letter queue).
 *
 * Reads the rules as they are now: call it after the rules are put (at start-up).
 * Throws ConfigError when a target names a handler or queue that `deps` does not have.
 *
 * @example
 * const consumers = await createEventBusConsumers(bus, { handlers: new Map([['task-processor', processTaskEvent]]), queues, alerts, logger, retryBaseSeconds: 2, maxRetryDelaySeconds: 300 });
 * for (const consumer of consumers) new QueueEventSource(consumer, options, logger).start();
 */
export async function createEventBusConsumers(bus: LocalEventBus, deps: EventBusConsumerDeps): Promise<Consumer[]> {
  const plan = await bus.deliveryPlan();
  const policy = (queue: Queue): BatchPolicy => ({
    queue,
    alerts: deps.alerts,
    logger: deps.logger,
    retryBaseSeconds: deps.retryBaseSeconds,
    maxRetryDelaySeconds: deps.maxRetryDelaySeconds,
  });
  const problems: string[] = [];
  const consumers: Consumer[] = plan.routers.map(({ busName, queue }) => ({
    queue,
    handler: async (record) => {
      await bus.route(busName, record.body);
    },
    policy: policy(queue),
  }));
  for (const { busName, ruleName, target, queue } of plan.targets) {
    let handler: RecordHandler | undefined;
    if (target.kind === 'handler') {
      const handle = deps.handlers.get(target.handler);
      if (handle === undefined) problems.push(`target ${target.id} of rule ${ruleName} on bus ${busName} names handler ${target.handler}, which is not registered`);
      else handler = (record, attempt) => handle(parseEventEnvelope(record.body), attempt);
    } else {
      const destination = deps.queues.get(target.queue);
      if (destination === undefined) problems.push(`target ${target.id} of rule ${ruleName} on bus ${busName} names queue ${target.queue}, which does not exist`);
      else handler = async (record) => void (await destination.send([{ body: record.body }]));
    }
    if (handler !== undefined) consumers.push({ queue, handler, policy: policy(queue) });
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return consumers;
}

/** An event envelope from its JSON text (as queued by the event bus); throws on anything else. */
export function parseEventEnvelope(json: string): EventEnvelope {
  const value: unknown = JSON.parse(json);
  const event = value as Partial<EventEnvelope> | null;
  if (
    typeof event !== 'object' ||
    event === null ||
    typeof event.id !== 'string' ||
    typeof event.source !== 'string' ||
    typeof event['detail-type'] !== 'string' ||
    typeof event.detail !== 'object' ||
    event.detail === null
  ) {
    throw new Error('not an EventBridge event envelope');
  }
  return event as EventEnvelope;
}
