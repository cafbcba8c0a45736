// Compensations that hold against late effects, on the real stack (#19). TEST_ENV's FAULTS make a call of
// chosen orders take effect although its answer is an error (its answer lost), or take effect after its
// caller gave up (a service slower than the workflow's retries). Whatever lands when, each order must end
// with its stock, ledger and shipment agreeing with how it ended: nothing kept that was undone, nothing
// undone that went out. The five cases run side by side, each on items of its own where stock is compared.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import ms from 'ms';
import { describe, expect, inject, it } from 'vitest';
import { call, finished, ledger, placeOrder, pollUntil, stock, timeline, waitForOrder } from './client.ts';
import { FAULTY, LATE } from './globalSetup.ts';

const reservation = async (id: string) =>
  (await call<{ status?: string }>('inventory', `/inventory/reservations/${id}`)).body.status;
const payments = async (id: string) =>
  (await call<{ entries: { kind: string }[]; voidedAt?: string }>('payments', `/payments/${id}`)).body;
const shipment = (id: string) => call<{ shipmentId?: string }>('shipping', `/shipping/${id}`);

/** The statuses the service answered the calls that FAULTS served again for the order (faults.ts logs each). */
function servedAgain(appId: string, orderId: string): number[] {
  const lines = readFileSync(join(inject('logDir'), `${appId}.log`), 'utf8').split('\n');
  return lines
    .filter((line) => line.includes('FAULTS: served') && line.includes(`"orderId":"${orderId}"`))
    .map((line) => (JSON.parse(line) as { status: number }).status);
}

/**
 * Waits until the late calls of the order have landed: the first one at least, and time enough for the
 * last (each try of the step sent one, LATE after it). Returns what the service answered them.
 */
async function lateCallsLanded(appId: string, orderId: string, finishedAt: number): Promise<number[]> {
  await pollUntil(
    `a late call of ${orderId}`,
    async () => servedAgain(appId, orderId),
    (s) => s.length > 0,
    20_000,
  );
  await sleep(Math.max(0, finishedAt + ms(LATE) + 1_000 - Date.now()));
  return servedAgain(appId, orderId);
}

const kinds = async (id: string) => (await timeline(id)).map((event) => event.kind);

describe.concurrent('compensations against late effects', () => {
  it('a reserve whose answer was lost is released: the order fails with its stock given back', async () => {
    const before = (await stock()).bread ?? 0;
    const id = await placeOrder({ customer: 'ReserveLost', items: ['bread'], total: 3 });
    expect(id.startsWith(FAULTY.reserveLost)).toBe(true);

    const order = await waitForOrder(id, finished);
    expect(order.status).toBe('FAILED');
    expect(order.failure_details?.message).toMatch(/^reservation failed: inventory reserve: reserve refused for/);
    expect(new Set(servedAgain('inventory', id))).toEqual(new Set([200])); // it did reserve
    expect(await reservation(id)).toBe('released');
    expect((await stock()).bread).toBe(before);
    expect((await payments(id)).entries).toEqual([]);
  });

  it('a reserve that lands after the order gave up is refused: its release came first and voided it', async () => {
    const before = (await stock()).apples ?? 0;
    const id = await placeOrder({ customer: 'ReserveLate', items: ['apples', 'apples'], total: 3 });
    const order = await waitForOrder(id, finished);
    expect(order.status).toBe('FAILED');
    expect(await reservation(id)).toBe('voided');

    const answers = await lateCallsLanded('inventory', id, Date.now());
    expect(answers.length).toBeGreaterThan(0);
    expect(await reservation(id)).toBe('voided');
    expect((await stock()).apples).toBe(before);
  });

  it('a charge that lands after the refund is refused (409): nothing is charged', async () => {
    const id = await placeOrder({ customer: 'ChargeLate', items: ['milk'], total: 25 });
    const order = await waitForOrder(id, finished);
    expect(order.status).toBe('FAILED');
    expect(order.failure_details?.message).toMatch(/^payment failed: payments charge: charge refused for/);
    expect(await payments(id)).toMatchObject({ entries: [], voidedAt: expect.any(String) });

    const answers = await lateCallsLanded('payments', id, Date.now());
    expect(new Set(answers)).toEqual(new Set([409]));
    expect(await ledger(id)).toEqual([]);
    expect(await reservation(id)).toBe('released');
  });

  it('a ship whose answer was lost keeps the order: the goods went out, it completes charged', async () => {
    const before = (await stock()).iPhone ?? 0;
    const id = await placeOrder({ customer: 'ShipLost', items: ['iPhone'], total: 40 });
    const order = await waitForOrder(id, finished);

    expect(order.status).toBe('COMPLETED');
    expect(order.order_result).toMatchObject({ success: true, message: 'Order processed successfully' });
    expect(new Set(servedAgain('shipping', id))).toEqual(new Set([200])); // it did ship
    expect((await shipment(id)).status).toBe(200);
    expect((await ledger(id)).map((entry) => entry.kind)).toEqual(['charge']);
    expect(await reservation(id)).toBe('reserved');
    expect((await stock()).iPhone).toBe(before - 1);
    await pollUntil(
      `shipped in ${id}'s timeline`,
      () => kinds(id),
      (k) => k.includes('shipped'),
      10_000,
    );
    expect(await kinds(id)).toEqual(['received', 'stock_reserved', 'paid', 'shipped']);
  });

  it('a ship that lands after the order gave up is refused (409): refunded, released, nothing shipped', async () => {
    const id = await placeOrder({ customer: 'ShipLate', items: ['milk'], total: 30 });
    const order = await waitForOrder(id, finished);
    expect(order.status).toBe('FAILED');
    expect(order.failure_details?.message).toMatch(/^shipping failed: shipping ship: ship refused for/);

    const answers = await lateCallsLanded('shipping', id, Date.now());
    expect(new Set(answers)).toEqual(new Set([409]));
    expect((await shipment(id)).status).toBe(404);
    expect((await ledger(id)).map((entry) => entry.kind)).toEqual(['charge', 'refund']);
    expect(await reservation(id)).toBe('released');
  });
});
