// A decision sent right after POST /orders, while the order is still reserving its stock (issue #24): the
// API keeps it and the engine hands it to the workflow when its approval wait begins. The first decision
// counts; an order that will never wait, or has ended, gets 409. The orders of the customer "Early" take
// 1.5 s to reserve (TEST_ENV's FAULTS), so that the decision surely comes first, however busy the machine.
// The decisions' tests run side by side, so each checks its own order's reservation, not the shared counts.
import { describe, expect, it } from 'vitest';
import {
  call,
  credentials,
  finished,
  getOrder,
  ledger,
  placeOrder,
  waitForNotification,
  waitForOrder,
} from './client.ts';
import { FAULTY } from './globalSetup.ts';
import { BIG_ORDER } from './walkthrough.ts';

const EARLY_ORDER = { ...BIG_ORDER, customer: 'Early' };

/** The order's own outcome in inventory: what it holds, and whether it gave it back. */
const reservation = async (id: string) =>
  (await call<{ status?: string; items?: string[] }>('inventory', `/inventory/reservations/${id}`)).body.status;

const decide = (id: string, approved: boolean, as: 'chris' | 'dana' = 'chris') =>
  call<{ message: string }>('orderprocessing', `/orders/${id}/approve`, { body: { approved }, as });

describe.concurrent('a decision sent before the order waits for approval', () => {
  it('approves: the order completes as soon as it reaches its wait', async () => {
    const id = await placeOrder(EARLY_ORDER);
    expect(id.startsWith(FAULTY.early)).toBe(true);
    const answer = await decide(id, true);

    expect(answer.status).toBe(202);
    expect(answer.body.message).toMatch(/kept for order/);
    const order = await waitForOrder(id, finished, 15_000);
    expect(order.status).toBe('COMPLETED');
    expect(order.order_result?.success).toBe(true);
    expect(await ledger(id)).toMatchObject([{ kind: 'charge', amount: EARLY_ORDER.total }]);
    const kinds = (await waitForNotification(id, 'shipped')).map((event) => event.kind);
    expect(kinds).toEqual(['received', 'stock_reserved', 'waiting_for_approval', 'approved', 'paid', 'shipped']);
  });

  it('rejects: the order ends rejected and its stock is back', async () => {
    const id = await placeOrder(EARLY_ORDER);
    expect((await decide(id, false)).status).toBe(202);

    const order = await waitForOrder(id, finished, 15_000);
    expect(order.order_result).toMatchObject({ success: false, message: expect.stringMatching(/rejected by chris/) });
    expect(await ledger(id)).toEqual([]);
    expect(await reservation(id)).toBe('released');
  });

  it('cancels: the order ends cancelled and its stock is back', async () => {
    const id = await placeOrder(EARLY_ORDER);
    const answer = await call<{ message: string }>('orderprocessing', `/orders/${id}/cancel`, {
      method: 'POST',
      as: 'dana',
    });
    expect(answer.status).toBe(202);
    expect(answer.body.message).toMatch(/kept for order/);

    const order = await waitForOrder(id, finished, 15_000);
    expect(order.order_result?.message).toMatch(/cancelled by dana/);
    expect(await reservation(id)).toBe('released');
  });

  it('lets the first of two different decisions count; the second gets 409', async () => {
    const id = await placeOrder(EARLY_ORDER);
    expect((await decide(id, false, 'dana')).status).toBe(202);
    const second = await decide(id, true, 'chris');

    expect(second.status).toBe(409);
    expect(second.body.message).toMatch(/already rejected by dana: the first decision counts/);
    const order = await waitForOrder(id, finished, 15_000);
    expect(order.order_result?.message).toMatch(/rejected by dana/);
    expect(await ledger(id)).toEqual([]);
  });

  it('reaches the order through the page’s approval proxy too', async () => {
    const id = await placeOrder(EARLY_ORDER);
    const { approvers } = credentials();
    const answer = await call<{ message: string }>('notifications', `/api/orders/${id}/approve`, {
      body: { approved: true },
      headers: { authorization: `Bearer ${approvers.chris}` },
    });
    expect(answer.status).toBe(202);
    expect((await waitForOrder(id, finished, 15_000)).order_result?.success).toBe(true);
  });
});

describe('a decision no wait is coming for', () => {
  it('gets 409 for an order under $1000, and for a finished one', async () => {
    const small = await placeOrder({ customer: 'Quinn', items: ['apples'], total: 2 });
    const early = await decide(small, true);
    expect(early.status).toBe(409);
    expect(early.body.message).toMatch(/never waits for approval/);

    await waitForOrder(small, finished);
    const big = await placeOrder(BIG_ORDER);
    expect((await decide(big, true)).status).toBe(202);
    await waitForOrder(big, finished, 15_000);
    const late = await call<{ message: string }>('orderprocessing', `/orders/${big}/cancel`, {
      method: 'POST',
      as: 'chris',
    });
    expect(late.status).toBe(409);
    expect(late.body.message).toMatch(/COMPLETED: there is nothing to cancel/);
    expect((await getOrder(big)).order_result?.success).toBe(true);
  });
});
