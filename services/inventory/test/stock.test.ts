import { describe, expect, it } from 'vitest';
import { FakeState, touches, yieldToOthers } from '../../shared/test/fakeState.ts';
import { parseStock, quantities, type Reservation, Stock, type StockCounts } from '../src/stock.ts';

interface StockDocument {
  counts: StockCounts;
  pending: Record<string, { status: string; items: string[] }>;
}

const DEFAULTS: StockCounts = { milk: 10, bread: 10, apples: 10, oranges: 10, iPhone: 5 };
const ORDER = 'order_riley_aaaaa';
const OTHER = 'order_riley_bbbbb';

function setup(counts: Partial<StockCounts> = {}) {
  const fake = new FakeState();
  const stock = new Stock(fake, { ...DEFAULTS, ...counts });
  const doc = () => fake.peek<StockDocument>('stock');
  return { fake, stock, doc };
}

describe('Stock.initialise', () => {
  it('writes the defaults once, and never over existing stock', async () => {
    const { fake, stock, doc } = setup();
    await stock.initialise();
    await stock.initialise();
    expect(fake.writes).toBe(1);
    expect(doc()).toEqual({ counts: DEFAULTS, pending: {} });

    // Another instance (a restart, another replica) with other defaults leaves the store alone.
    await new Stock(fake, { ...DEFAULTS, milk: 999 }).initialise();
    expect(fake.writes).toBe(1);
    expect(doc()?.counts.milk).toBe(10);
  });

  it('is retried by the next operation when the first attempt fails', async () => {
    const { fake, stock, doc } = setup();
    fake.failOnSave(1, touches('stock'), new Error('sidecar not ready'));
    await expect(stock.initialise()).rejects.toThrow('sidecar not ready');
    expect(doc()).toBeUndefined();
    expect(await stock.counts()).toEqual(DEFAULTS);
    expect(doc()?.counts).toEqual(DEFAULTS);
  });
});

describe('Stock.reserve', () => {
  it('decrements the counts and records the reservation', async () => {
    const { stock, doc } = setup();
    const result = await stock.reserve(ORDER, ['milk', 'iPhone']);
    expect(result).toEqual({ orderId: ORDER, reserved: true, short: [] });
    expect(await stock.counts()).toEqual({ ...DEFAULTS, milk: 9, iPhone: 4 });
    expect(await stock.reservation(ORDER)).toEqual<Reservation>({
      orderId: ORDER,
      items: ['milk', 'iPhone'],
      status: 'reserved',
      short: [],
    });
    expect(doc()?.pending).toEqual({});
  });

  it('applies a repeated reserve for the same order once', async () => {
    const { stock } = setup();
    const first = await stock.reserve(ORDER, ['bread', 'bread']);
    const second = await stock.reserve(ORDER, ['bread', 'bread']);
    expect(second).toEqual(first);
    expect((await stock.counts()).bread).toBe(8);
  });

  it('counts a repeated item once per occurrence', async () => {
    const { stock } = setup();
    expect(quantities(['milk', 'milk', 'bread'])).toEqual(
      new Map([
        ['milk', 2],
        ['bread', 1],
      ]),
    );
    await stock.reserve(ORDER, ['milk', 'milk']);
    expect((await stock.counts()).milk).toBe(8);
  });

  it('refuses an order it cannot fill, names what is short, and changes no count', async () => {
    const { stock } = setup({ iPhone: 1, oranges: 0 });
    const before = await stock.counts();

    const result = await stock.reserve(ORDER, ['iPhone', 'iPhone', 'milk', 'oranges']);

    expect(result).toEqual({ orderId: ORDER, reserved: false, short: ['iPhone', 'oranges'] });
    expect(await stock.counts()).toEqual(before);
    expect((await stock.reservation(ORDER))?.status).toBe('rejected');
    // A retry of the refused order gives the same answer and still changes nothing.
    expect(await stock.reserve(ORDER, ['iPhone', 'iPhone', 'milk', 'oranges'])).toEqual(result);
    expect(await stock.counts()).toEqual(before);
  });

  it('can take the last of an item, and no more', async () => {
    const { stock } = setup({ iPhone: 2 });
    expect((await stock.reserve(ORDER, ['iPhone', 'iPhone'])).reserved).toBe(true);
    expect(await stock.reserve(OTHER, ['iPhone'])).toEqual({ orderId: OTHER, reserved: false, short: ['iPhone'] });
    expect((await stock.counts()).iPhone).toBe(0);
  });

  it('repairs a crash between the stock write and the reservation record without reserving twice', async () => {
    const { fake, stock, doc } = setup();
    await stock.initialise();
    fake.failOnSave(1, touches('reservation:*'));

    // The answer does not wait for the record, whose write fails in the background (the crash).
    expect(await stock.reserve(ORDER, ['apples', 'apples', 'iPhone'])).toEqual({
      orderId: ORDER,
      reserved: true,
      short: [],
    });
    await stock.settled();
    // The count change is applied and its outcome pending; the order's record is missing.
    expect(doc()?.counts).toMatchObject({ apples: 8, iPhone: 4 });
    expect(doc()?.pending[ORDER]?.status).toBe('reserved');
    expect(fake.peek(`reservation:${ORDER}`)).toBeUndefined();
    expect((await stock.reservation(ORDER))?.status).toBe('reserved');

    const retry = await stock.reserve(ORDER, ['apples', 'apples', 'iPhone']);
    await stock.settled();

    expect(retry).toEqual({ orderId: ORDER, reserved: true, short: [] });
    expect(doc()).toEqual({ counts: { ...DEFAULTS, apples: 8, iPhone: 4 }, pending: {} });
    expect((await stock.reservation(ORDER))?.status).toBe('reserved');
  });

  it('answers without waiting for the pending outcome to be settled, and settles it soon after', async () => {
    const { fake, stock, doc } = setup();
    await stock.initialise();
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    fake.beforeSave = async (items) => {
      if (touches('stock')(items) && (items[0]?.value as StockDocument).pending[ORDER] === undefined) await held;
    };

    expect(await stock.reserve(ORDER, ['milk'])).toEqual({ orderId: ORDER, reserved: true, short: [] });
    expect(doc()?.pending[ORDER]?.status).toBe('reserved'); // the clearing write is still held up

    release();
    await stock.settled();
    expect(doc()).toEqual({ counts: { ...DEFAULTS, milk: 9 }, pending: {} });
  });

  it('repairs a crash after the record but before the pending outcome is settled, at the next start', async () => {
    const { fake, stock, doc } = setup();
    await stock.initialise();
    // Saves of `stock` from here: 1 = count change, 2 = clearing the mark (in the background).
    fake.failOnSave(2, touches('stock'));

    expect(await stock.reserve(ORDER, ['milk'])).toEqual({ orderId: ORDER, reserved: true, short: [] });
    await stock.settled();
    expect(doc()?.pending[ORDER]?.status).toBe('reserved');

    // The process restarts: the new instance finds the mark of a settled order and clears it.
    const restarted = new Stock(fake, DEFAULTS);
    await restarted.initialise();
    expect(doc()).toEqual({ counts: { ...DEFAULTS, milk: 9 }, pending: {} });
    expect(await restarted.reserve(ORDER, ['milk'])).toEqual({ orderId: ORDER, reserved: true, short: [] });
    expect(doc()?.counts.milk).toBe(9);
  });

  it('hands out exactly the stock there is to 20 concurrent orders on two instances, through real ETag conflicts', async () => {
    const { fake, stock, doc } = setup({ iPhone: 5 });
    const other = new Stock(fake, { ...DEFAULTS, iPhone: 5 }); // a second replica, or a restart's overlap
    await stock.initialise();
    let lowest = Number.POSITIVE_INFINITY;
    fake.beforeSave = async (items) => {
      for (const item of items) {
        if (item.key === 'stock') lowest = Math.min(lowest, (item.value as StockDocument).counts.iPhone);
      }
      await yieldToOthers(items, fake); // let the other orders read before this one writes
    };
    const ids = Array.from({ length: 20 }, (_, i) => `order_buyer_${String(i).padStart(5, '0')}`);

    const results = await Promise.all(ids.map((id, i) => (i % 2 ? other : stock).reserve(id, ['iPhone'])));

    expect(results.filter((result) => result.reserved)).toHaveLength(5);
    expect(results.filter((result) => !result.reserved).every((result) => result.short[0] === 'iPhone')).toBe(true);
    await Promise.all([stock.settled(), other.settled()]);
    expect(fake.conflicts).toBeGreaterThan(0);
    expect(lowest).toBe(0);
    expect(doc()).toEqual({ counts: { ...DEFAULTS, iPhone: 0 }, pending: {} });
    const records = await Promise.all(ids.map((id) => stock.reservation(id)));
    expect(records.filter((record) => record?.status === 'reserved')).toHaveLength(5);
    expect(records.filter((record) => record?.status === 'rejected')).toHaveLength(15);
  });

  it('group-commits concurrent orders: far fewer writes of the stock document than orders', async () => {
    const { fake, stock, doc } = setup({ milk: 100 });
    await stock.initialise();
    let stockWrites = 0;
    fake.beforeSave = async (items) => {
      if (items.some((item) => item.key === 'stock')) stockWrites += 1;
      await yieldToOthers(items, fake);
    };
    const ids = Array.from({ length: 40 }, (_, i) => `order_buyer_${String(i).padStart(5, '0')}`);

    await Promise.all(ids.map((id) => stock.reserve(id, ['milk'])));
    await stock.settled();

    expect(doc()).toEqual({ counts: { ...DEFAULTS, milk: 60 }, pending: {} });
    expect(fake.conflicts).toBe(0);
    // One order alone takes two writes (count change, then clearing its mark); 40 together share them.
    expect(stockWrites).toBeLessThan(20);
  });
});

describe('Stock.release', () => {
  it('gives the items back once; a second release is a no-op', async () => {
    const { stock, doc } = setup();
    await stock.reserve(ORDER, ['oranges', 'oranges', 'milk']);
    expect((await stock.counts()).oranges).toBe(8);

    expect(await stock.release(ORDER)).toEqual({ orderId: ORDER, released: true });
    expect(await stock.counts()).toEqual(DEFAULTS);
    expect((await stock.reservation(ORDER))?.status).toBe('released');

    expect(await stock.release(ORDER)).toEqual({ orderId: ORDER, released: true });
    expect(await stock.counts()).toEqual(DEFAULTS);
    expect(doc()?.pending).toEqual({});
  });

  it('gives nothing back for an unknown order (and voids it) or for a refused one', async () => {
    const { stock } = setup({ iPhone: 0 });
    const before = await stock.counts();
    expect(await stock.release(ORDER)).toEqual({ orderId: ORDER, released: false });
    expect(await stock.counts()).toEqual(before);
    expect((await stock.reservation(ORDER))?.status).toBe('voided');

    expect((await stock.reserve(OTHER, ['iPhone'])).reserved).toBe(false);
    expect(await stock.release(OTHER)).toEqual({ orderId: OTHER, released: false });
    expect(await stock.counts()).toEqual(before);
    expect((await stock.reservation(OTHER))?.status).toBe('rejected');
  });

  it('does not give back another order’s items', async () => {
    const { stock } = setup();
    await stock.reserve(ORDER, ['bread']);
    await stock.reserve(OTHER, ['bread', 'bread']);
    await stock.release(ORDER);
    expect((await stock.counts()).bread).toBe(8);
  });

  it('repairs a crash between giving back and recording the release without giving back twice', async () => {
    const { fake, stock, doc } = setup();
    await stock.reserve(ORDER, ['milk', 'milk']);
    await stock.settled();
    fake.failOnSave(1, touches('reservation:*'));

    expect(await stock.release(ORDER)).toEqual({ orderId: ORDER, released: true }); // its record's write fails
    await stock.settled();
    expect(doc()?.counts.milk).toBe(10);
    expect(doc()?.pending[ORDER]?.status).toBe('released');
    expect(fake.peek<Reservation>(`reservation:${ORDER}`)?.status).toBe('reserved');

    expect(await stock.release(ORDER)).toEqual({ orderId: ORDER, released: true });
    await stock.settled();
    expect(doc()).toEqual({ counts: DEFAULTS, pending: {} });
  });
});

describe('Stock: overlapping duplicates and crashed steps', () => {
  it('applies a reserve once when a duplicate of it overlaps', async () => {
    const { fake, stock } = setup();
    await stock.initialise();
    // While the first call is about to write the stock, a duplicate delivery of the same step starts.
    let duplicate: Promise<unknown> | undefined;
    fake.beforeSave = async (items) => {
      if (!touches('stock')(items)) return;
      fake.beforeSave = undefined;
      duplicate = stock.reserve(ORDER, ['iPhone']);
      await yieldToOthers(items, fake);
    };
    const first = await stock.reserve(ORDER, ['iPhone']);
    expect(await duplicate).toEqual(first);
    expect((await stock.counts()).iPhone).toBe(4);
  });

  it('gives back once when a duplicate release overlaps', async () => {
    const { fake, stock } = setup();
    await stock.reserve(ORDER, ['iPhone']);
    let duplicate: Promise<unknown> | undefined;
    fake.beforeSave = async (items) => {
      if (!touches('stock')(items)) return;
      fake.beforeSave = undefined;
      duplicate = stock.release(ORDER);
      await yieldToOthers(items, fake);
    };
    await stock.release(ORDER);
    await duplicate;
    expect((await stock.counts()).iPhone).toBe(5);
  });

  it('gives the stock back on release after a reserve that crashed before its record', async () => {
    const { fake, stock } = setup();
    await stock.initialise();
    fake.failOnSave(1, touches('reservation:*'));
    await stock.reserve(ORDER, ['iPhone']); // its record's write fails in the background
    await stock.settled();
    expect((await stock.counts()).iPhone).toBe(4);
    // The workflow gives up on the reserve and compensates.
    expect(await stock.release(ORDER)).toEqual({ orderId: ORDER, released: true });
    expect((await stock.counts()).iPhone).toBe(5);
    expect((await stock.reservation(ORDER))?.status).toBe('released');
    // A late retry of the reserve is refused: its order holds nothing and never will.
    expect(await stock.reserve(ORDER, ['iPhone'])).toEqual({
      orderId: ORDER,
      reserved: false,
      short: [],
      voided: true,
    });
    expect((await stock.counts()).iPhone).toBe(5);
  });
});

describe('parseStock', () => {
  it('reads the counts it is given and keeps the defaults for the rest', () => {
    expect(parseStock('milk=3,iPhone=0', DEFAULTS)).toEqual({ ...DEFAULTS, milk: 3, iPhone: 0 });
    expect(parseStock(' bread = 7 ', DEFAULTS)).toEqual({ ...DEFAULTS, bread: 7 });
    expect(parseStock(undefined, DEFAULTS)).toEqual(DEFAULTS);
    expect(parseStock('  ', DEFAULTS)).toEqual(DEFAULTS);
  });

  it('names the item or value that is wrong', () => {
    expect(() => parseStock('milk=3,caviar=2', DEFAULTS)).toThrow(/unknown item "caviar"/);
    expect(() => parseStock('milk=-1', DEFAULTS)).toThrow(/"milk=-1" needs a whole number/);
    expect(() => parseStock('milk=2.5', DEFAULTS)).toThrow(/"milk=2.5"/);
    expect(() => parseStock('iPhone=lots', DEFAULTS)).toThrow(/"iPhone=lots"/);
    expect(() => parseStock('milk', DEFAULTS)).toThrow(/"milk" needs a whole number/);
    expect(() => parseStock('milk=3', DEFAULTS)).not.toThrow();
  });

  it('does not change the defaults it is given', () => {
    const defaults = { ...DEFAULTS };
    parseStock('milk=1', defaults);
    expect(defaults).toEqual(DEFAULTS);
  });
});

describe('parseStock: strict numbers', () => {
  it('refuses an empty count instead of reading it as 0, and hex', () => {
    expect(() => parseStock('milk=', DEFAULTS)).toThrow(/"milk=" needs a whole number/);
    expect(() => parseStock('milk=0x10', DEFAULTS)).toThrow(/"milk=0x10" needs a whole number/);
  });
});

describe('Stock: exact with any number of replicas, and against late calls', () => {
  it('gives back once when a late duplicate reserve arrives between a crashed release and its retry', async () => {
    const { fake, stock } = setup();
    await stock.reserve(ORDER, ['milk']);
    await stock.settled();
    fake.failOnSave(1, touches('reservation:*'));
    await stock.release(ORDER); // given back; its record's write fails in the background
    await stock.settled();

    expect((await stock.reserve(ORDER, ['milk'])).reserved).toBe(false); // a late duplicate of the first step
    await stock.settled();
    expect(await stock.release(ORDER)).toEqual({ orderId: ORDER, released: true });
    await stock.settled();

    expect((await stock.counts()).milk).toBe(10);
  });

  it('gives back once when two replicas release the same order, one of them from a stale read', async () => {
    const { fake, stock } = setup();
    const other = new Stock(fake, DEFAULTS);
    await stock.reserve(ORDER, ['iPhone']);
    await stock.settled();
    // `other` has read the reservation record and is about to write the stock when `stock` does the whole
    // release, record and all.
    fake.beforeSave = async (items) => {
      if (!touches('stock')(items)) return;
      fake.beforeSave = undefined;
      await stock.release(ORDER);
      await stock.settled();
    };
    await other.release(ORDER);
    await Promise.all([stock.settled(), other.settled()]);

    expect((await stock.counts()).iPhone).toBe(5);
  });

  it('reserves once when two replicas reserve the same order, one of them from a stale read', async () => {
    const { fake, stock } = setup();
    const other = new Stock(fake, DEFAULTS);
    await stock.initialise();
    fake.beforeSave = async (items) => {
      if (!touches('stock')(items)) return;
      fake.beforeSave = undefined;
      await stock.reserve(ORDER, ['iPhone']);
      await stock.settled();
    };
    await other.reserve(ORDER, ['iPhone']);
    await Promise.all([stock.settled(), other.settled()]);

    expect((await stock.counts()).iPhone).toBe(4);
  });

  it('refuses a reserve that lands after its order was released (voided), and takes nothing', async () => {
    const { stock } = setup();
    expect(await stock.release(ORDER)).toEqual({ orderId: ORDER, released: false });

    const late = await stock.reserve(ORDER, ['iPhone']);

    expect(late.reserved).toBe(false);
    expect((await stock.counts()).iPhone).toBe(5);
    expect((await stock.reservation(ORDER))?.status).toBe('voided');
  });
});
