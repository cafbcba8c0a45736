// The failure paths a real stack never takes by itself, on the real stack: a charge that fails for good,
// and a compensation that fails for good. TEST_ENV's FAULTS make payments decline the charges of the
// customers "Declined" and "Unreleased", and inventory refuse to release the stock of "Unreleased"; every
// other order goes through as usual.
import { describe, expect, it } from 'vitest';
import { call, finished, ledger, placeOrder, stock, waitForNotification, waitForOrder } from './client.ts';
import { FAULTY } from './globalSetup.ts';

const refused = (route: string, id: string) => `${route} refused for ${id} (a fault injected by FAULTS) (HTTP 422)`;

async function reservationStatus(id: string): Promise<string | undefined> {
  return (await call<{ status?: string }>('inventory', `/inventory/reservations/${id}`)).body.status;
}

describe('a charge that fails for good', () => {
  it('fails the order, gives the stock back and charges nothing; the timeline says payment_failed, then compensated', async () => {
    const before = await stock();
    const id = await placeOrder({ customer: 'Declined', items: ['apples', 'bread'], total: 7.5 });
    expect(id.startsWith(FAULTY.declined)).toBe(true);

    const order = await waitForOrder(id, finished);
    expect(order.status).toBe('FAILED');
    expect(order.failure_details?.message).toBe(`payment failed: payments charge: ${refused('charge', id)}`);
    expect(await ledger(id)).toEqual([]);
    expect(await reservationStatus(id)).toBe('released');
    const after = await stock();
    expect([after.apples, after.bread]).toEqual([before.apples, before.bread]);

    const events = await waitForNotification(id, 'compensated');
    expect(events.map((event) => event.kind)).toEqual(['received', 'stock_reserved', 'payment_failed', 'compensated']);
    expect(events[2]?.text).toBe(`Error charging the payment: payments charge: ${refused('charge', id)}`);
    expect(events[3]?.text).toBe('Released the stock.');
  });
});

describe('a compensation that fails for good', () => {
  it('is named in the compensated notification; the order still FAILS with the cause, its stock stays held', async () => {
    const before = await stock();
    const id = await placeOrder({ customer: 'Unreleased', items: ['apples'], total: 3 });
    expect(id.startsWith(FAULTY.unreleased)).toBe(true);

    const order = await waitForOrder(id, finished);
    expect(order.status).toBe('FAILED');
    expect(order.failure_details?.message).toBe(`payment failed: payments charge: ${refused('charge', id)}`);
    const events = await waitForNotification(id, 'compensated');
    expect(events.map((event) => event.kind)).toEqual(['received', 'stock_reserved', 'payment_failed', 'compensated']);
    expect(events[3]?.text).toBe("Compensation incomplete: releaseInventory failed; see the order's history.");

    // The release was refused: the unit stays reserved for the order, and nothing was charged or refunded.
    expect(await reservationStatus(id)).toBe('reserved');
    expect((await stock()).apples).toBe((before.apples ?? 0) - 1);
    expect(await ledger(id)).toEqual([]);
  });
});
