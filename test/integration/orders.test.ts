// The walkthrough of the README, on the real Dapr runtime: every path an order can take (the main ones are
// in walkthrough.ts, which the PostgreSQL run shares).
import { describe, expect, it } from 'vitest';
import { call, finished, getOrder, ledger, placeOrder, stock, waitForNotification, waitForOrder } from './client.ts';
import { approvedBigOrder, autoApprovedOrder, BIG_ORDER, rejectedBigOrder, shippingFailure } from './walkthrough.ts';

describe('an order under $1000', () => {
  it('is charged, shipped and completed without anyone approving it', autoApprovedOrder);
});

describe('an order of $1000 or more', () => {
  it('waits for approval, and completes once approved', approvedBigOrder);
  it('gives the stock back when rejected, and charges nothing', rejectedBigOrder);

  it('gives the stock back when nobody approves it before the deadline', async () => {
    const before = await stock();
    const id = await placeOrder(BIG_ORDER);
    const order = await waitForOrder(id, finished, 20_000); // APPROVAL_TIMEOUT is 6 s in the test stack
    expect(order.status).toBe('COMPLETED');
    expect(order.order_result?.success).toBe(false);
    expect(order.order_result?.message).toMatch(/Approval timed out/);
    expect((await stock()).iPhone).toBe(before.iPhone);
    expect(await ledger(id)).toEqual([]);
    await waitForNotification(id, 'approval_timed_out');
  });

  it('cannot be approved once it is finished (409), nor when it does not exist (404)', async () => {
    const id = await placeOrder({ customer: 'Quinn', items: ['apples'], total: 2 });
    await waitForOrder(id, finished);
    const late = await call('orderprocessing', `/orders/${id}/approve`, {
      body: { approved: true },
      as: 'chris',
    });
    expect(late.status).toBe(409);
    expect(late.body.message).toMatch(/nothing to approve/);
    const unknown = await call('orderprocessing', '/orders/order_nobody_zzzzz/approve', {
      body: { approved: true },
      as: 'chris',
    });
    expect(unknown.status).toBe(404);
    expect((await call('orderprocessing', '/orders/order_nobody_zzzzz')).status).toBe(404);
  });
});

describe('when shipping is in maintenance', () => {
  it('refunds the charge, releases the stock and fails the order with the 503', shippingFailure);
});

describe('parallel orders', () => {
  it('never oversell the last units of an item', async () => {
    const before = (await stock()).oranges ?? 0;
    expect(before).toBeGreaterThan(0);
    const ids = await Promise.all(
      Array.from({ length: 20 }, (_, n) => placeOrder({ customer: `buyer${n}`, items: ['oranges'], total: 1 })),
    );
    const orders = await Promise.all(ids.map((id) => waitForOrder(id, finished, 45_000)));
    const succeeded = orders.filter((order) => order.order_result?.success);
    expect(orders.every((order) => order.status === 'COMPLETED')).toBe(true);
    expect(succeeded).toHaveLength(Math.min(before, 20));
    for (const order of orders.filter((o) => !o.order_result?.success)) {
      expect(order.order_result?.message).toBe('Insufficient inventory for oranges');
    }
    expect((await stock()).oranges).toBe(Math.max(0, before - 20));
  });
});

describe('an Idempotency-Key', () => {
  it('returns the same order for the same key and body, never a second workflow', async () => {
    const body = { customer: 'Ines', items: ['bread'], total: 3.2 };
    const key = `key-${Date.now()}`;
    const first = await placeOrder(body, { 'idempotency-key': key });
    const second = await placeOrder(body, { 'idempotency-key': key });
    expect(second).toBe(first);
    await waitForOrder(first, finished);
    expect(await ledger(first)).toHaveLength(1);

    const different = await call('orderprocessing', '/orders', {
      body: { ...body, total: 99 },
      headers: { 'idempotency-key': key },
    });
    expect(different.status).toBe(422);
    // Dapr would recreate a finished instance if asked: the order must be untouched.
    expect((await getOrder(first)).details.total).toBe(3.2);
  });
});

describe('bad input', () => {
  // The README's promise: a bad body gets 422 with a message naming the field (each issue also names it).
  const invalid: [string, string, unknown][] = [
    ['no customer', 'body.customer: ', { items: ['milk'], total: 1 }],
    ['a customer of 65 characters', 'body.customer: ', { customer: 'x'.repeat(65), items: ['milk'], total: 1 }],
    ['an unknown item', 'body.items.1: ', { customer: 'A', items: ['milk', 'caviar'], total: 1 }],
    ['no items', 'body.items: ', { customer: 'A', items: [], total: 1 }],
    ['a negative total', 'body.total: ', { customer: 'A', items: ['milk'], total: -1 }],
    ['a total with three decimals', 'body.total: ', { customer: 'A', items: ['milk'], total: 1.234 }],
    ['a total as text', 'body.total: ', { customer: 'A', items: ['milk'], total: '1' }],
    [
      'an unknown key',
      'body: Unrecognized key: "coupon"',
      { customer: 'A', items: ['milk'], total: 1, coupon: 'FREE' },
    ],
  ];
  it.each(invalid)('%s gets a 422 whose message begins %j', async (_name, begins, body) => {
    const answer = await call<{ message: string; issues: { field: string }[] }>('orderprocessing', '/orders', { body });
    expect(answer.status).toBe(422);
    expect(answer.body.message.slice(0, begins.length)).toBe(begins);
    expect(answer.body.issues.map((issue) => issue.field)).toEqual([begins.split(': ')[0]]);
  });

  it('malformed JSON gets a 400', async () => {
    const answer = await call('orderprocessing', '/orders', { rawBody: '{"customer":' });
    expect(answer.status).toBe(400);
  });

  it('an unknown order id gets a 404 with a message', async () => {
    const answer = await call('orderprocessing', '/orders/order_nobody_zzzzz');
    expect(answer.status).toBe(404);
    expect(answer.body.message).toMatch(/not found/);
    expect((await getOrder('order_nobody_zzzzz')).status).toBeUndefined();
  });

  it('a malformed order id gets a 422 naming the parameter', async () => {
    const answer = await call('orderprocessing', '/orders/not-an-order');
    expect(answer.status).toBe(422);
    expect(answer.body.message).toBe('params.orderId: an order id such as order_riley_x7k2p');
  });
});
