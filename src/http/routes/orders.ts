import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import * as z from 'zod';
import { CreateOrderRequest, OrderId, OrderView } from '../../domain/orders/order.js';
import type { OrderService } from '../../domain/orders/order-service.js';
import { errorResponses, jsonBody, jsonResponse } from '../openapi-common.js';

const createOrder = createRoute({
  method: 'post',
  path: '/orders',
  tags: ['orders'],
  summary: 'Place an order (processed asynchronously)',
  request: { body: jsonBody(CreateOrderRequest) },
  responses: { 202: jsonResponse('Accepted', z.object({ orderId: OrderId })), ...errorResponses },
});

const getOrder = createRoute({
  method: 'get',
  path: '/orders/{orderId}',
  tags: ['orders'],
  summary: 'An order: pending until processed, then confirmed',
  request: { params: z.object({ orderId: OrderId }) },
  responses: { 200: jsonResponse('The order', OrderView), ...errorResponses },
});

/** `POST /orders`, `GET /orders/{orderId}`. */
export function registerOrderRoutes(app: OpenAPIHono, orders: OrderService): void {
  app.openapi(createOrder, async (c) => {
    const order = await orders.accept(c.req.valid('json'));
    c.header('Location', `/orders/${order.orderId}`);
    return c.json({ orderId: order.orderId }, 202);
  });
  app.openapi(getOrder, async (c) => c.json(await orders.get(c.req.valid('param').orderId), 200));
}
