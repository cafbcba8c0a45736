// The walkthrough of the README, on the real Dapr runtime: every path an order can take.
import { describe, expect, it } from 'vitest';
import {
  call,
  finished,
  getOrder,
  ledger,
  placeOrder,
  stock,
  waitForNotification,
  waitForOrder,
  waitingForApproval,
} from './client.ts';

describe('an order under $1000', () => {
  it('is charged, shipped and completed without anyone approving it', async () => {
    const before = await stock();
    const answer = await call<{ id: string }>('orderprocessing', '/orders', {
      body: { customer: 'Riley', items: ['milk', 'bread'], total: 12.5 },
    });
    expect(answer.status).toBe(202);
    expect(answer.body.id).toMatch(/^order_riley_[a-z0-9]{5}$/);
    expect(answer.headers.get('location')).toMatch(new RegExp(`/orders/${answer.body.id}$`));

    const order = await waitForOrder(answer.body.id, finished);
    expect(order.status).toBe('COMPLETED');
    expect(order.order_result).toEqual({ id: answer.body.id, success: true, message: 'Order processed successfully' });
    expect(order.details).toEqual({ customer: 'Riley', items: ['milk', 'bread'], total: 12.5 });

    expect(await ledger(order.id)).toMatchObject([{ kind: 'charge', amount: 12.5 }]);
    const after = await stock();
    expect(after.milk).toBe((before.milk ?? 0) - 1);
    expect(after.bread).toBe((before.bread ?? 0) - 1);
    expect((await call('shipping', `/shipping/${order.id}`)).status).toBe(200);

    const events = await waitForNotification(order.id, 'shipped');
    expect(events.map((event) => event.kind)).toEqual(['received', 'stock_reserved', 'paid', 'shipped']);
    expect(events[0]?.text).toBe('Received order for Riley: [milk, bread]. Total = 12.5');
  });
});

describe('an order of $1000 or more', () => {
  const bigOrder = { customer: 'Riley', items: ['milk', 'bread', 'iPhone'], total: 1299.0 };

  it('waits for approval, and completes once approved', async () => {
    const id = await placeOrder(bigOrder);
    await waitForOrder(id, waitingForApproval);
    expect((await waitForNotification(id, 'waiting_for_approval')).at(-1)?.text).toMatch(/Deadline = \d{4}-/);

    const approval = await call('orderprocessing', `/orders/${id}/approve`, {
      body: { approver: 'Chris', approved: true },
      as: 'chris',
    });
    expect(approval.status).toBe(202);

    const order = await waitForOrder(id, finished);
    expect(order.status).toBe('COMPLETED');
    expect(order.order_result?.success).toBe(true);
    const events = await waitForNotification(id, 'shipped');
    expect(events.find((event) => event.kind === 'approved')?.text).toBe('Order was approved by chris.');
    expect(await ledger(id)).toMatchObject([{ kind: 'charge', amount: 1299 }]);
  });

  it('gives the stock back when rejected, and charges nothing', async () => {
    const before = await stock();
    const id = await placeOrder(bigOrder);
    await waitForOrder(id, waitingForApproval);
    expect((await stock()).iPhone).toBe((before.iPhone ?? 0) - 1);

    await call('orderprocessing', `/orders/${id}/approve`, { body: { approved: false }, as: 'dana' });
    const order = await waitForOrder(id, finished);
    expect(order.status).toBe('COMPLETED');
    expect(order.order_result?.success).toBe(false);
    expect(order.order_result?.message).toMatch(/rejected by dana/);
    expect((await stock()).iPhone).toBe(before.iPhone);
    expect(await ledger(id)).toEqual([]);
  });

  it('gives the stock back when nobody approves it before the deadline', async () => {
    const before = await stock();
    const id = await placeOrder(bigOrder);
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
  it('refunds the charge, releases the stock and fails the order with the 503', async () => {
    expect((await call('shipping', '/shipping/deactivate', { method: 'POST', as: 'admin' })).status).toBe(200);
    try {
      const before = await stock();
      const id = await placeOrder({ customer: 'Sam', items: ['apples', 'apples'], total: 4 });
      const order = await waitForOrder(id, finished);
      expect(order.status).toBe('FAILED');
      expect(order.failure_details?.message).toMatch(/503/);
      expect(order.failure_details?.message).toMatch(/deactivated for maintenance/);

      const entries = await ledger(id);
      expect(entries.map((entry) => entry.kind)).toEqual(['charge', 'refund']);
      expect(entries.every((entry) => entry.amount === 4)).toBe(true);
      expect((await stock()).apples).toBe(before.apples);

      const events = await waitForNotification(id, 'compensated');
      expect(events.find((event) => event.kind === 'shipping_failed')?.text).toMatch(
        /^Error submitting order for shipping: .*503/,
      );
    } finally {
      await call('shipping', '/shipping/activate', { method: 'POST', as: 'admin' });
    }
  });
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
  const invalid: [string, unknown][] = [
    ['no customer', { items: ['milk'], total: 1 }],
    ['unknown item', { customer: 'A', items: ['caviar'], total: 1 }],
    ['no items', { customer: 'A', items: [], total: 1 }],
    ['negative total', { customer: 'A', items: ['milk'], total: -1 }],
    ['three decimals', { customer: 'A', items: ['milk'], total: 1.234 }],
    ['total as text', { customer: 'A', items: ['milk'], total: '1' }],
    ['an unknown key', { customer: 'A', items: ['milk'], total: 1, coupon: 'FREE' }],
  ];
  it.each(invalid)('%s gets a 4xx naming the problem, and no order', async (_name, body) => {
    const answer = await call('orderprocessing', '/orders', { body });
    expect(answer.status).toBeGreaterThanOrEqual(400);
    expect(answer.status).toBeLessThan(500);
    expect(String(answer.body.message)).toMatch(/body/);
  });

  it('malformed JSON gets a 400', async () => {
    const answer = await call('orderprocessing', '/orders', { rawBody: '{"customer":' });
    expect(answer.status).toBe(400);
  });

  it('an unknown order id gets a 404 with a message', async () => {
    const answer = await call('orderprocessing', '/orders/not-an-order');
    expect(answer.status).toBe(404);
    expect(answer.body.message).toMatch(/not found/);
    expect((await getOrder('not-an-order')).status).toBeUndefined();
  });
});
