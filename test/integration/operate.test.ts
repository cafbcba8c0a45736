// Operating orders on the real stack: cancel while waiting for approval, purge a finished order.
import { describe, expect, it } from 'vitest';
import {
  call,
  finished,
  ledger,
  placeOrder,
  stock,
  waitForNotification,
  waitForOrder,
  waitingForApproval,
} from './client.ts';

describe('cancelling', () => {
  it('while the order waits for approval releases the stock and ends it as cancelled', async () => {
    const before = await stock();
    const id = await placeOrder({ customer: 'Cleo', items: ['iPhone', 'milk'], total: 1100 });
    await waitForOrder(id, waitingForApproval);
    expect((await stock()).iPhone).toBe((before.iPhone ?? 0) - 1);

    const answer = await call('orderprocessing', `/orders/${id}/cancel`, { method: 'POST', as: 'dana' });
    expect(answer.status).toBe(202);
    const order = await waitForOrder(id, finished);
    expect(order.status).toBe('COMPLETED');
    expect(order.order_result?.success).toBe(false);
    expect(order.order_result?.message).toMatch(/cancelled by dana/);
    expect((await stock()).iPhone).toBe(before.iPhone);
    expect(await ledger(id)).toEqual([]);
    await waitForNotification(id, 'cancelled');
  });

  it('after payment (or once finished) is refused with 409', async () => {
    const id = await placeOrder({ customer: 'Cleo', items: ['milk'], total: 5 });
    await waitForOrder(id, finished);
    const answer = await call('orderprocessing', `/orders/${id}/cancel`, { method: 'POST', as: 'dana' });
    expect(answer.status).toBe(409);
    expect(answer.body.message).toMatch(/COMPLETED: there is nothing to cancel/);
    expect(await ledger(id)).toHaveLength(1);
  });
});

describe('purging', () => {
  it("deletes a finished order's history (admin only), which then answers archived; a running order gets 409", async () => {
    const running = await placeOrder({ customer: 'Pim', items: ['milk'], total: 2000 });
    await waitForOrder(running, waitingForApproval);
    expect((await call('orderprocessing', `/orders/${running}`, { method: 'DELETE', as: 'admin' })).status).toBe(409);

    const done = await placeOrder({ customer: 'Pim', items: ['milk'], total: 2 });
    await waitForOrder(done, finished);
    expect((await call('orderprocessing', `/orders/${done}`, { method: 'DELETE', as: 'stranger' })).status).toBe(401);
    expect((await call('orderprocessing', `/orders/${done}`, { method: 'DELETE', as: 'admin' })).status).toBe(200);
    const archived = await call('orderprocessing', `/orders/${done}`);
    expect(archived.status).toBe(200);
    expect(archived.body).toMatchObject({ id: done, status: 'COMPLETED', archived: true });

    await call('orderprocessing', `/orders/${running}/cancel`, { method: 'POST', as: 'chris' });
    await waitForOrder(running, finished);
  });
});
