import * as z from 'zod';
import type { Item, ItemKey } from '../../ports/table.js';

const CURRENCIES = new Set(Intl.supportedValuesOf('currency'));

/** Body of `POST /orders`: a positive amount with at most 2 decimals, an ISO 4217 currency. */
export const CreateOrderRequest = z.strictObject({
  amount: z
    .number()
    .positive()
    .max(1_000_000_000)
    // Exact for every amount of whole cents that a double can hold: 99.99 passes, 0.001 does not.
    .refine((a) => Math.round(a * 100) / 100 === a, 'amount must have at most 2 decimals'),
  currency: z
    .string()
    .regex(/^[A-Z]{3}$/, 'currency must be an upper-case ISO 4217 code')
    .refine((c) => CURRENCIES.has(c), 'currency is not an ISO 4217 code'),
});
export type CreateOrderRequest = z.infer<typeof CreateOrderRequest>;

export const OrderId = z.uuid().describe('Order id (UUID)');

/** `pending` until the order processor has written it, then `confirmed`. */
export const ORDER_STATUSES = ['pending', 'confirmed'] as const;

export const OrderView = z.object({
  orderId: OrderId,
  amount: z.number(),
  currency: z.string(),
  status: z.enum(ORDER_STATUSES),
  createdAt: z.string(),
  confirmedAt: z.string().optional(),
});
export type Order = z.infer<typeof OrderView>;

/** What travels on the orders queue. */
export const OrderMessage = z.object({ orderId: OrderId, amount: z.number(), currency: z.string(), createdAt: z.iso.datetime() });
export type OrderMessage = z.infer<typeof OrderMessage>;

/** Single-table key from the orders recipe: `ORDER#{id}`. */
export const orderKey = (orderId: string): ItemKey => ({ pk: `ORDER#${orderId}`, sk: 'ORDER' });

export const orderItem = (order: Order): Item => ({ ...orderKey(order.orderId), ...order });

export function orderFromItem(item: Item): Order {
  return OrderView.parse(Object.fromEntries(Object.entries(item).filter(([k]) => k !== 'pk' && k !== 'sk')));
}
