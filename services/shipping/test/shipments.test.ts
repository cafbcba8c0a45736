import { describe, expect, it } from 'vitest';
import { ShipResult } from '#shared/messages.ts';
import { FakeState } from '../../shared/test/fakeState.ts';
import { InMaintenance, Shipments } from '../src/shipments.ts';

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
