import { randomUUID } from 'node:crypto';
import { ConditionFailedError, NotFoundError } from '../../errors.js';
import type { Clock } from '../../ports/clock.js';
import type { Queue } from '../../ports/queue.js';
import type { Table } from '../../ports/table.js';
import { orderFromItem, orderItem, orderKey, type CreateOrderRequest, type Order, type OrderMessage } from './order.js';

/**
 * The API side of orders. Like jobs, the message goes first and the `pending` record
 * second, so an acknowledged order is always on the queue and `GET` finds it at once.
 */
export class OrderService {
  constructor(private readonly deps: { orders: Table; queue: Queue; clock: Clock; newId?: () => string }) {}

  async accept(request: CreateOrderRequest): Promise<Order> {
    const message: OrderMessage = {
      orderId: (this.deps.newId ?? randomUUID)(),
      amount: request.amount,
      currency: request.currency,
      createdAt: new Date(this.deps.clock.now()).toISOString(),
    };
    await this.deps.queue.send([{ body: JSON.stringify(message) }]);
    const order: Order = { ...message, status: 'pending' };
    try {
      await this.deps.orders.put(orderItem(order), { conditions: [{ kind: 'notExists' }] });
    } catch (error) {
      // The processor already wrote the confirmed order.
      if (!(error instanceof ConditionFailedError)) throw error;
    }
    return order;
  }

  async get(orderId: string): Promise<Order> {
    const item = await this.deps.orders.get(orderKey(orderId));
    if (item === undefined) throw new NotFoundError(`order ${orderId} not found`);
    return orderFromItem(item);
  }
}
