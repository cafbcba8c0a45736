// GET /orders on the real stack: the order projection that notifications builds from the events,
// listed newest first in pages, filtered, for approvers and the admin only.
import { describe, expect, it } from 'vitest';
import { call, finished, placeOrder, waitForOrder, waitingForApproval } from './client.ts';
import { type ListedOrder, listOrders, uniqueName, waitForListed } from './orderListClient.ts';

/** Every page of a query, following the cursors. */
async function allPages(query: Record<string, string>): Promise<ListedOrder[][]> {
  const pages: ListedOrder[][] = [];
  let cursor: string | undefined;
  do {
    const answer = await listOrders({ ...query, ...(cursor ? { cursor } : {}) });
    expect(answer.status).toBe(200);
    pages.push(answer.body.orders);
    cursor = answer.body.next_cursor;
  } while (cursor && pages.length < 50);
  return pages;
}

describe('GET /orders', () => {
  it('lists real orders newest first, page by page, and filters them by status, step, customer and time', async () => {
    const customer = uniqueName('Lister');
    const other = uniqueName('Other');
    // One after the other, so that their creation times are in this order.
    const ids: string[] = [];
    for (const total of [3, 4, 5, 6]) {
      const id = await placeOrder({ customer, items: ['milk'], total });
      await waitForOrder(id, finished);
      ids.push(id);
    }
    const otherId = await placeOrder({ customer: other, items: ['bread'], total: 2 });
    const waiting = await placeOrder({ customer, items: ['iPhone'], total: 1200 });
    await waitForOrder(waiting, waitingForApproval);
    ids.push(waiting);
    try {
      const listed = await waitForListed(customer, waiting, (order) => order.last_step === 'waiting_for_approval');
      expect(listed).toMatchObject({ customer, status: 'RUNNING' });
      expect(Date.parse(listed.approval_deadline ?? '')).toBeGreaterThan(Date.now());

      const pages = await allPages({ customer: customer.toUpperCase(), limit: '2' });
      expect(pages.map((page) => page.length)).toEqual([2, 2, 1]);
      expect(pages.flat().map((order) => order.id)).toEqual([...ids].reverse());
      expect(pages.flat().every((order) => order.customer === customer)).toBe(true);

      const completed = (await listOrders({ customer, status: 'COMPLETED' })).body.orders;
      expect(completed.map((order) => order.id)).toEqual(ids.slice(0, 4).reverse());
      expect(completed.every((order) => order.last_step === 'shipped')).toBe(true);
      const running = (await listOrders({ customer, status: 'RUNNING' })).body.orders;
      expect(running.map((order) => order.id)).toEqual([waiting]);
      const byStep = (await listOrders({ customer, last_step: 'waiting_for_approval' })).body.orders;
      expect(byStep.map((order) => order.id)).toEqual([waiting]);

      // A time window: from the second order's creation up to (not including) the fourth's.
      const times = completed.map((order) => order.created_time).reverse();
      const window = (await listOrders({ customer, from: times[1] ?? '', to: times[3] ?? '' })).body.orders;
      expect(window.map((order) => order.id)).toEqual([ids[2], ids[1]]);

      // Without a customer filter the others' orders are there too, newest first.
      const recent = (await listOrders({ limit: '100' })).body.orders;
      expect(recent.map((order) => order.id)).toEqual(expect.arrayContaining([otherId, ...ids]));
      const times100 = recent.map((order) => Date.parse(order.created_time));
      expect(times100).toEqual([...times100].sort((a, b) => b - a));
    } finally {
      await call('orderprocessing', `/orders/${waiting}/cancel`, { method: 'POST', as: 'chris' });
    }
    await waitForOrder(waiting, finished);
    // Cancelled, or timed out first on a slow machine (its approval timeout is 6 s here).
    const ended = await waitForListed(customer, waiting, (order) => order.status === 'COMPLETED');
    expect(['cancelled', 'approval_timed_out']).toContain(ended.last_step);
  });

  it('leaves out an order once the admin purged it', async () => {
    const customer = uniqueName('Purged');
    const id = await placeOrder({ customer, items: ['apples'], total: 1 });
    await waitForOrder(id, finished);
    await waitForListed(customer, id, (order) => order.status === 'COMPLETED');
    expect((await call('orderprocessing', `/orders/${id}`, { method: 'DELETE', as: 'admin' })).status).toBe(200);
    expect((await listOrders({ customer })).body.orders).toEqual([]);
  });

  it('is for approvers and the admin only, and says what is wrong with a query', async () => {
    const stranger = await listOrders({}, 'stranger');
    expect(stranger.status).toBe(401);
    expect(stranger.body).not.toHaveProperty('orders');
    expect((await listOrders({ limit: '1' }, 'admin')).status).toBe(200);
    expect((await listOrders({ limit: '1' }, 'dana')).status).toBe(200);

    const badStatus = await listOrders({ status: 'DONE' });
    expect(badStatus.status).toBe(422);
    expect(badStatus.body.message).toMatch(/status/);
    expect((await listOrders({ limit: '500' })).status).toBe(422);
    const badCursor = await listOrders({ cursor: 'bm90LWEtY3Vyc29y' });
    expect(badCursor.status).toBe(400);
    expect(badCursor.body.message).toMatch(/cursor/);
  });
});
