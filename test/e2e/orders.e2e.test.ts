import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, getJson, postJson, startTestSpool, type TestSpool } from '../support/local-spool.js';

describe('Orders API over HTTP (the orders recipe)', () => {
  let spool: TestSpool;
  beforeAll(async () => {
    spool = await startTestSpool();
  });
  afterAll(async () => spool.dispose());

  it('accepts {"amount": 99.99, "currency": "EUR"} with 202 {orderId}, then serves the confirmed order', async () => {
    const placed = await postJson(`${spool.url}/orders`, { amount: 99.99, currency: 'EUR' });

    expect(placed.status).toBe(202);
    expect(Object.keys(placed.body)).toEqual(['orderId']);
    const orderId = String(placed.body['orderId']);
    const order = await eventually(() => getJson(`${spool.url}/orders/${orderId}`), (r) => r.body['status'] === 'confirmed');
    expect(order.status).toBe(200);
    expect(order.body).toMatchObject({ orderId, amount: 99.99, currency: 'EUR', status: 'confirmed', createdAt: expect.any(String) });
  });

  it('knows an accepted order at once, before it is processed', async () => {
    const placed = await postJson(`${spool.url}/orders`, { amount: 1, currency: 'USD' });
    const order = await getJson(`${spool.url}/orders/${String(placed.body['orderId'])}`);
    expect(order.status).toBe(200);
    expect(['pending', 'confirmed']).toContain(order.body['status']);
  });

  it('answers 404 for an order id never accepted', async () => {
    const missing = await getJson(`${spool.url}/orders/0f8fad5b-d9cb-469f-a165-70867728950e`);
    expect(missing).toMatchObject({ status: 404, body: { error: { code: 'not_found' } } });
  });

  it.each([
    [{ amount: 0, currency: 'EUR' }, 'amount'],
    [{ amount: 10.001, currency: 'EUR' }, 'amount'],
    [{ amount: 10, currency: 'eur' }, 'currency'],
    [{ amount: 10, currency: 'ABC' }, 'currency'],
    [{ amount: '10', currency: 'EUR' }, 'amount'],
  ])('rejects %j with 400 naming the field', async (body, field) => {
    const rejected = await postJson(`${spool.url}/orders`, body);
    expect(rejected.status).toBe(400);
    expect(JSON.stringify(rejected.body['error'])).toContain(field);
  });
});
