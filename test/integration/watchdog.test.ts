// The stuck-order watchdog on the real stack (WATCHDOG_* in TEST_ENV: it looks every 250 ms, flags an
// order running 10 s outside its approval wait, and warns 3 s before a 6 s approval deadline). Each flag
// is a notification that reaches the notifications service through pub/sub, a mark on the order's
// summary there (which the page draws), and a flag in GET /orders.
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import {
  apps,
  call,
  finished,
  getOrder,
  placeOrder,
  timeline,
  tokensOf,
  waitForNotification,
  waitForOrder,
} from './client.ts';
import { uniqueName, waitForListed } from './orderListClient.ts';

interface Summary {
  orderId: string;
  state: string;
  flags?: string[];
}

async function summaryOf(id: string): Promise<Summary | undefined> {
  return (await call<{ order?: Summary }>('notifications', `/api/orders/${id}/timeline`)).body.order;
}

/** Suspends, resumes or terminates an order's workflow through orderprocessing's sidecar (Dapr's workflow API). */
async function workflow(id: string, action: 'pause' | 'resume' | 'terminate'): Promise<void> {
  const sidecar = apps().orderprocessing?.daprHttpPort;
  const response = await fetch(`http://127.0.0.1:${sidecar}/v1.0/workflows/dapr/${id}/${action}`, {
    method: 'POST',
    headers: { 'dapr-api-token': tokensOf('orderprocessing').daprApiToken },
  });
  if (!response.ok) throw new Error(`${action} ${id}: HTTP ${response.status} ${await response.text()}`);
}

const kindsOf = async (id: string) => (await timeline(id)).map((event) => event.kind);

// Each test watches an order of its own: they run side by side (the three waits overlap).
describe.concurrent('the watchdog', () => {
  it('warns once of an order still waiting for approval near its deadline, and the mark goes when it ends', async () => {
    const customer = uniqueName('Waiting');
    const id = await placeOrder({ customer, items: ['iPhone'], total: 1400 });
    const events = await waitForNotification(id, 'approval_deadline_near', 10_000);
    expect(events.find((event) => event.kind === 'approval_deadline_near')?.text).toMatch(
      /^Still waiting for approval, \d+m?s before its deadline \(\d{4}-\d\d-\d\dT[\d:.]+Z\)\.$/,
    );
    expect(await summaryOf(id)).toMatchObject({ state: 'waiting_for_approval', flags: ['approval_deadline_near'] });
    const listed = await waitForListed(customer, id, (order) => order.flags.length > 0);
    expect(listed.flags).toEqual(['approval_deadline_near']);

    // It runs every 250 ms: still one warning, then the deadline ends the order and its mark.
    await waitForOrder(id, finished, 15_000);
    await waitForNotification(id, 'approval_timed_out');
    expect((await kindsOf(id)).filter((kind) => kind === 'approval_deadline_near')).toHaveLength(1);
    const ended = await summaryOf(id);
    expect(ended?.state).toBe('cancelled');
    expect(ended?.flags).toBeUndefined();
  });

  it('flags an order whose approval timer does not fire as stalled; once it moves again it ends and the mark goes', async () => {
    const customer = uniqueName('Stuck');
    const id = await placeOrder({ customer, items: ['bread'], total: 1500 });
    await waitForNotification(id, 'waiting_for_approval');
    // Suspending the workflow holds its 6 s approval timer back, as a scheduler that lost it would: the
    // order stays waiting past its deadline, for as long as we like, whatever the machine's load.
    await workflow(id, 'pause');
    try {
      const events = await waitForNotification(id, 'stalled', 30_000);
      expect(events.find((event) => event.kind === 'stalled')?.text).toMatch(
        /^Stalled: still waiting for approval \d+s after its deadline; the timer that ends the wait has not fired\.$/,
      );
      expect((await summaryOf(id))?.flags).toContain('stalled');
      const listed = await waitForListed(customer, id, (order) => order.flags.includes('stalled'));
      expect(listed).toMatchObject({ status: 'RUNNING', last_step: 'waiting_for_approval' });
    } finally {
      await workflow(id, 'resume');
    }

    // Moving again, the timer that fired meanwhile ends the wait: the stock goes back and the mark goes.
    const order = await waitForOrder(id, finished, 20_000);
    // Once (one full run of many) this found no order_result: the whole view says how it ended, if again.
    expect(order.order_result?.success, JSON.stringify(order)).toBe(false);
    await waitForNotification(id, 'approval_timed_out');
    const kinds = await kindsOf(id);
    expect(kinds.slice(0, 3)).toEqual(['received', 'stock_reserved', 'waiting_for_approval']);
    expect(kinds).toContain('stalled');
    expect(kinds.at(-1)).toBe('approval_timed_out');
    expect((await summaryOf(id))?.flags).toBeUndefined();
    // The list keeps what the watchdog raised, with how the order ended.
    const listed = await waitForListed(customer, id, (entry) => entry.status !== 'RUNNING');
    expect(listed.last_step).toBe('approval_timed_out');
    expect(listed.flags).toContain('stalled');
  });

  it('does not flag an order that was terminated through Dapr directly: the list says TERMINATED', async () => {
    const customer = uniqueName('Ended');
    const id = await placeOrder({ customer, items: ['bread'], total: 1500 });
    await waitForNotification(id, 'waiting_for_approval');
    const warningDue = Date.now() + 3_000; // 3 s into the 6 s wait (and a little later: the wait began before)
    // No step announces this end.
    await workflow(id, 'terminate');

    const listed = await waitForListed(customer, id, (order) => order.status !== 'RUNNING');
    expect(listed).toMatchObject({ status: 'TERMINATED', last_step: 'waiting_for_approval' });
    expect((await getOrder(id)).status).toBe('TERMINATED');
    // Past the moment the warning would have been due, nothing was raised.
    await sleep(Math.max(0, warningDue + 1_500 - Date.now()));
    expect(await kindsOf(id)).not.toContain('approval_deadline_near');
    expect((await waitForListed(customer, id, () => true)).flags).toEqual([]);
  });
});
