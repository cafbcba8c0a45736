import { describe, expect, it } from 'vitest';
import { ShipResult } from '#shared/messages.ts';
import { FakeState } from '../../shared/test/fakeState.ts';
import { InMaintenance, ShipmentCancelled, Shipments } from '../src/shipments.ts';

const ORDER = 'order_riley_aaaaa';
const NOW = new Date('2026-01-01T12:00:00.000Z');

function setup() {
  const fake = new FakeState();
  let next = 0;
  const shipments = new Shipments(
    fake,
    () => `ship_${++next}`,
    () => NOW,
  );
  return { fake, shipments, issued: () => next };
}

describe('Shipments', () => {
  it('ships an order once: a repeat returns the same shipment', async () => {
    const { shipments, issued } = setup();

    const first = await shipments.ship(ORDER);
    const second = await shipments.ship(ORDER);

    expect(first).toEqual({ orderId: ORDER, shipmentId: 'ship_1', shippedAt: NOW.toISOString() });
    expect(ShipResult.parse(first)).toEqual(first);
    expect(second).toEqual(first);
    expect(issued()).toBe(1);
    expect(await shipments.shipment(ORDER)).toEqual(first);
  });

  it('ships with one read of the shipment and the maintenance flag together, and one create-only write', async () => {
    const { fake, shipments } = setup();

    await shipments.ship(ORDER);

    expect({ reads: fake.reads, bulkReads: fake.bulkReads, writes: fake.writes, conflicts: fake.conflicts }).toEqual({
      reads: 0,
      bulkReads: 1,
      writes: 1,
      conflicts: 0,
    });
  });

  it('gives each order its own shipment', async () => {
    const { shipments } = setup();
    const a = await shipments.ship(ORDER);
    const b = await shipments.ship('order_sam_bbbbb');
    expect(b.shipmentId).not.toBe(a.shipmentId);
  });

  it('refuses new shipments with 503 in maintenance, and ships again once it ends', async () => {
    const { fake, shipments } = setup();
    expect(await shipments.inMaintenance()).toBe(false);
    await shipments.setMaintenance(true);
    expect(await shipments.inMaintenance()).toBe(true);

    const refused = await shipments.ship(ORDER).catch((error: unknown) => error);

    expect(refused).toBeInstanceOf(InMaintenance);
    expect((refused as InMaintenance).statusCode).toBe(503);
    expect((refused as InMaintenance).message).toMatch(/maintenance/);
    expect(await shipments.shipment(ORDER)).toBeUndefined();
    expect(fake.keys()).toEqual(['maintenance']);

    await shipments.setMaintenance(false);
    expect((await shipments.ship(ORDER)).orderId).toBe(ORDER);
  });

  it('still returns an order’s existing shipment in maintenance', async () => {
    const { shipments } = setup();
    const shipped = await shipments.ship(ORDER);
    await shipments.setMaintenance(true);

    expect(await shipments.ship(ORDER)).toEqual(shipped);
    await expect(shipments.ship('order_sam_bbbbb')).rejects.toMatchObject({ statusCode: 503 });
  });

  it('keeps maintenance mode in the store, so a new instance (a restart) sees it', async () => {
    const { fake, shipments } = setup();
    await shipments.setMaintenance(true);
    const restarted = new Shipments(fake, () => 'ship_x');
    expect(await restarted.inMaintenance()).toBe(true);
  });
});

describe('Shipments: overlapping first calls', () => {
  it('two overlapping first shipments of one order agree on one shipment', async () => {
    const { shipments } = setup();
    const [a, b] = await Promise.all([shipments.ship(ORDER), shipments.ship(ORDER)]);
    expect(b.shipmentId).toBe(a.shipmentId);
  });
});

describe('Shipments.cancel', () => {
  it('cancels an order that has not shipped: a ship that lands afterwards is refused (409), nothing goes out', async () => {
    const { shipments, issued } = setup();

    expect(await shipments.cancel(ORDER)).toEqual({ orderId: ORDER, shipment: null });
    expect(await shipments.cancel(ORDER)).toEqual({ orderId: ORDER, shipment: null });
    const late = await shipments.ship(ORDER).catch((error: unknown) => error);

    expect(late).toBeInstanceOf(ShipmentCancelled);
    expect((late as ShipmentCancelled).statusCode).toBe(409);
    expect((late as ShipmentCancelled).message).toBe(
      `the shipment of ${ORDER} was cancelled at ${NOW.toISOString()}: it is not shipped`,
    );
    expect(await shipments.shipment(ORDER)).toBeUndefined();
    expect(issued()).toBe(0);
  });

  it('answers the shipment of an order whose goods went out, and leaves it as it is', async () => {
    const { shipments } = setup();
    const shipped = await shipments.ship(ORDER);

    expect(await shipments.cancel(ORDER)).toEqual({ orderId: ORDER, shipment: shipped });
    expect(await shipments.shipment(ORDER)).toEqual(shipped);
    expect(await shipments.ship(ORDER)).toEqual(shipped);
  });

  it('cancels in maintenance mode too', async () => {
    const { shipments } = setup();
    await shipments.setMaintenance(true);
    expect(await shipments.cancel(ORDER)).toEqual({ orderId: ORDER, shipment: null });
  });

  it('a ship and a cancel that overlap agree: shipped and not cancelled, or cancelled and never shipped', async () => {
    for (let run = 0; run < 20; run++) {
      const { shipments } = setup();
      const [ship, cancel] = await Promise.allSettled([shipments.ship(ORDER), shipments.cancel(ORDER)]);
      const stored = await shipments.shipment(ORDER);
      if (cancel.status === 'fulfilled' && cancel.value.shipment === null) {
        expect(stored).toBeUndefined();
        expect(ship.status).toBe('rejected');
      } else {
        expect(ship.status === 'fulfilled' && ship.value).toEqual(stored);
        expect(cancel.status === 'fulfilled' && cancel.value.shipment).toEqual(stored);
      }
    }
  });
});
