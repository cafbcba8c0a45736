import { describe, expect, it } from 'vitest';
import { LedgerEntry } from '#shared/messages.ts';
import { FakeState } from '../../shared/test/fakeState.ts';
import { ChargeVoided, Ledger } from '../src/ledger.ts';

const ORDER = 'order_riley_aaaaa';

function setup() {
  const fake = new FakeState();
  let tick = 0;
  // A clock that moves on every reading, so a second entry made by mistake would differ from the first.
  const ledger = new Ledger(fake, () => new Date(Date.UTC(2026, 0, 1, 12, 0, tick++)));
  return { fake, ledger };
}

describe('Ledger.charge', () => {
  it('charges an order once: a repeat returns the first entry, whatever amount it names', async () => {
    const { fake, ledger } = setup();

    const first = await ledger.charge(ORDER, 'Riley', 42.5);
    const second = await ledger.charge(ORDER, 'Riley', 99);

    expect(first.entry).toEqual({
      orderId: ORDER,
      kind: 'charge',
      amount: 42.5,
      customer: 'Riley',
      at: '2026-01-01T12:00:00.000Z',
    });
    expect(LedgerEntry.parse(first.entry)).toEqual(first.entry);
    expect(second).toEqual(first);
    const entries = await ledger.entries(ORDER);
    expect(entries).toEqual([first.entry]);
    expect(fake.writes).toBe(1);
  });

  it('charges with one create-only write and no read; only a repeat reads', async () => {
    const { fake, ledger } = setup();

    await ledger.charge(ORDER, 'Riley', 42.5);
    expect({ reads: fake.reads, writes: fake.writes, conflicts: fake.conflicts }).toEqual({
      reads: 0,
      writes: 1,
      conflicts: 0,
    });

    await ledger.charge(ORDER, 'Riley', 42.5);
    expect({ reads: fake.reads, writes: fake.writes, conflicts: fake.conflicts }).toEqual({
      reads: 1,
      writes: 1,
      conflicts: 1,
    });
  });

  it('keeps orders apart', async () => {
    const { ledger } = setup();
    await ledger.charge(ORDER, 'Riley', 10);
    await ledger.charge('order_sam_bbbbb', 'Sam', 20);
    expect((await ledger.entries(ORDER)).map((entry) => entry.amount)).toEqual([10]);
    expect((await ledger.entries('order_sam_bbbbb')).map((entry) => entry.amount)).toEqual([20]);
  });
});

describe('Ledger.refund', () => {
  it('refunds nothing for an order that was never charged, and voids it once', async () => {
    const { fake, ledger } = setup();
    expect(await ledger.refund(ORDER)).toEqual({ orderId: ORDER, entry: null, voided: true });
    expect(await ledger.refund(ORDER)).toEqual({ orderId: ORDER, entry: null, voided: true });
    expect(await ledger.ledger(ORDER)).toEqual({ entries: [], voidedAt: '2026-01-01T12:00:00.000Z' });
    expect(fake.writes).toBe(1);
  });

  it('refuses a charge that lands after the refund (409), and charges nothing', async () => {
    const { ledger } = setup();
    await ledger.refund(ORDER);

    const late = await ledger.charge(ORDER, 'Riley', 1250).catch((error: unknown) => error);

    expect(late).toBeInstanceOf(ChargeVoided);
    expect((late as ChargeVoided).statusCode).toBe(409);
    expect((late as ChargeVoided).message).toBe(
      `order ${ORDER} was voided at 2026-01-01T12:00:00.000Z (refunded before it was charged): it is not charged`,
    );
    expect(await ledger.entries(ORDER)).toEqual([]);
  });

  it('refunds the charge once, after it', async () => {
    const { fake, ledger } = setup();
    const charge = await ledger.charge(ORDER, 'Riley', 1250);

    const refund = await ledger.refund(ORDER);
    const again = await ledger.refund(ORDER);

    expect(refund.entry).toMatchObject({ orderId: ORDER, kind: 'refund', amount: 1250, customer: 'Riley' });
    expect(refund.entry?.at).not.toBe(charge.entry?.at);
    expect(again).toEqual(refund);
    const entries = await ledger.entries(ORDER);
    expect(entries.map((entry) => entry.kind)).toEqual(['charge', 'refund']);
    expect(entries.filter((entry) => entry.kind === 'refund')).toHaveLength(1);
    expect(fake.writes).toBe(2);
  });

  it('does not charge again after a refund', async () => {
    const { ledger } = setup();
    await ledger.charge(ORDER, 'Riley', 5);
    await ledger.refund(ORDER);
    await ledger.charge(ORDER, 'Riley', 5);
    expect((await ledger.entries(ORDER)).map((entry) => entry.kind)).toEqual(['charge', 'refund']);
  });
});

describe('Ledger: overlapping first calls', () => {
  it('two overlapping first charges of one order return the same, stored, entry', async () => {
    const { ledger } = setup();
    const [a, b] = await Promise.all([ledger.charge(ORDER, 'Riley', 10), ledger.charge(ORDER, 'Riley', 20)]);
    const stored = await ledger.entries(ORDER);
    expect(stored).toHaveLength(1);
    expect(a.entry).toEqual(stored[0]);
    expect(b.entry).toEqual(stored[0]);
  });

  it('a charge and a refund that overlap end charged and refunded, or voided with nothing charged', async () => {
    for (let run = 0; run < 20; run++) {
      const { ledger } = setup();
      const [charge, refund] = await Promise.allSettled([ledger.charge(ORDER, 'Riley', 10), ledger.refund(ORDER)]);
      const stored = await ledger.ledger(ORDER);
      if (stored.voidedAt) {
        expect(stored.entries).toEqual([]);
        expect(charge.status).toBe('rejected');
      } else {
        expect(stored.entries.map((entry) => entry.kind)).toEqual(['charge', 'refund']);
        expect(refund.status === 'fulfilled' && refund.value.entry?.kind).toBe('refund');
      }
    }
  });
});
