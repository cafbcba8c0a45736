// The README's walkthrough as steps that drive an order down one path and check what it leaves behind
// (order, ledger, stock, shipment, timeline). orders.test.ts runs them on the Redis-backed stack,
// test/postgres on a stack whose state store is PostgreSQL. Each returns the order's id.
import { expect } from 'vitest';
import {
  call,
  finished,
  ledger,
  type OrderView,
  placeOrder,
  stock,
  waitForNotification,
  waitForOrder,
  waitingForApproval,
} from './client.ts';

export const BIG_ORDER = { customer: 'Riley', items: ['milk', 'bread', 'iPhone'], total: 1299.0 };

/** Under $1000: reserved, charged, shipped and COMPLETED without anyone approving it. */
export async function autoApprovedOrder(): Promise<string> {
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
  // The customer's name is personal data: whole for an approver, its first letter for anyone else.
  expect(order.details).toEqual({ customer: 'R…', items: ['milk', 'bread'], total: 12.5 });
  const asApprover = await call<OrderView>('orderprocessing', `/orders/${order.id}`, { as: 'chris' });
  expect(asApprover.body.details).toEqual({ customer: 'Riley', items: ['milk', 'bread'], total: 12.5 });

  expect(await ledger(order.id)).toMatchObject([{ kind: 'charge', amount: 12.5 }]);
  const after = await stock();
  expect(after.milk).toBe((before.milk ?? 0) - 1);
  expect(after.bread).toBe((before.bread ?? 0) - 1);
  expect((await call('shipping', `/shipping/${order.id}`)).status).toBe(200);

  const events = await waitForNotification(order.id, 'shipped');
  expect(events.map((event) => event.kind)).toEqual(['received', 'stock_reserved', 'paid', 'shipped']);
  expect(events[0]?.text).toBe('Received order for Riley: [milk, bread]. Total = 12.5');
  // The same data as fields, which the readers take (the text is for people).
  expect(events[0]).toMatchObject({ customer: 'Riley', items: ['milk', 'bread'], total: 12.5 });
  return order.id;
}

/** $1000 or more: waits for approval, approved by chris, then charged, shipped and COMPLETED. */
export async function approvedBigOrder(): Promise<string> {
  const id = await placeOrder(BIG_ORDER);
  await waitForOrder(id, waitingForApproval);
  const waiting = (await waitForNotification(id, 'waiting_for_approval')).at(-1);
  expect(waiting?.text).toMatch(/Deadline = \d{4}-/);
  expect(waiting?.deadline).toBe(waiting?.text.slice(-24)); // the same instant, as a field

  const approval = await call('orderprocessing', `/orders/${id}/approve`, {
    body: { approver: 'Chris', approved: true },
    as: 'chris',
  });
  expect(approval.status).toBe(202);

  const order = await waitForOrder(id, finished);
  expect(order.status).toBe('COMPLETED');
  expect(order.order_result?.success).toBe(true);
  const events = await waitForNotification(id, 'shipped');
  expect(events.find((event) => event.kind === 'approved')).toMatchObject({
    text: 'Order was approved by chris.',
    approver: 'chris',
  });
  expect(await ledger(id)).toMatchObject([{ kind: 'charge', amount: 1299 }]);
  return id;
}

/** $1000 or more, rejected by dana: the stock comes back and nothing is charged. */
export async function rejectedBigOrder(): Promise<string> {
  const before = await stock();
  const id = await placeOrder(BIG_ORDER);
  await waitForOrder(id, waitingForApproval);
  expect((await stock()).iPhone).toBe((before.iPhone ?? 0) - 1);

  await call('orderprocessing', `/orders/${id}/approve`, { body: { approved: false }, as: 'dana' });
  const order = await waitForOrder(id, finished);
  expect(order.status).toBe('COMPLETED');
  expect(order.order_result?.success).toBe(false);
  expect(order.order_result?.message).toMatch(/rejected by dana/);
  expect((await stock()).iPhone).toBe(before.iPhone);
  expect(await ledger(id)).toEqual([]);
  return id;
}

/** Shipping in maintenance: charged, refunded, stock released, the order FAILED with the 503. */
export async function shippingFailure(): Promise<string> {
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
    expect(events.find((event) => event.kind === 'compensated')).toMatchObject({
      failedStep: 'shipping',
      reason: expect.stringMatching(/503/),
      undoFailed: [],
    });
    return id;
  } finally {
    await call('shipping', '/shipping/activate', { method: 'POST', as: 'admin' });
  }
}
