import { ConditionFailedError, ValidationError } from '../errors.js';
import type { Clock } from '../ports/clock.js';
import type { Table } from '../ports/table.js';
import { OrderMessage, orderItem, orderKey } from '../domain/orders/order.js';
import type { RecordHandler } from './queue-record.js';

/**
 * The order processor of the orders recipe: confirms an order with conditional writes on
 * `ORDER#{id}`, so a redelivered message never creates or changes it twice.
 */
export function createOrderProcessor(deps: { orders: Table; clock: Clock }): RecordHandler {
  return async (record) => {
    let body: unknown;
    try {
      body = JSON.parse(record.body);
    } catch (error) {
      throw new ValidationError('order message is not JSON', { cause: String(error) });
    }
    const parsed = OrderMessage.safeParse(body);
    if (!parsed.success) throw new ValidationError('malformed order message', parsed.error.issues);
    const message = parsed.data;
    const confirmedAt = new Date(deps.clock.now()).toISOString();
    try {
      // Usually the API wrote it `pending` already; if this delivery beat that write, create it.
      await deps.orders.put(orderItem({ ...message, status: 'pending' }), { conditions: [{ kind: 'notExists' }] });
    } catch (error) {
      if (!(error instanceof ConditionFailedError)) throw error;
    }
    try {
      // Only `pending` may change: a redelivery finds it `confirmed` and leaves it alone.
      await deps.orders.update(orderKey(message.orderId), { status: 'confirmed', confirmedAt }, {
        conditions: [{ kind: 'equals', attribute: 'status', value: 'pending' }],
      });
    } catch (error) {
      if (!(error instanceof ConditionFailedError)) throw error;
    }
  };
}
