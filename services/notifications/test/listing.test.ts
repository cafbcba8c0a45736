import { beforeAll, describe, expect, it } from 'vitest';
import { FakeState } from '../../shared/test/fakeState.ts';
import { type ListQuery, listOrders } from '../src/orderIndex/listing.ts';
import { happyPath, Projection, step, T0 } from './indexHelpers.ts';

const HOUR = 3_600_000;

/**
 * 60 orders over two days (one every 47 minutes, so they fall in many buckets), customers taking turns;
 * every third one still running, every fifth one failed, the rest completed.
 */
const placed = Array.from({ length: 60 }, (_, n) => ({
  id: `order_${['riley', 'sam', 'noor'][n % 3]}_${String(n).padStart(5, '0')}`,
  at: n * 47 * 60_000,
  outcome: n % 3 === 0 ? 'RUNNING' : n % 5 === 0 ? 'FAILED' : 'COMPLETED',
}));

let store: FakeState;

beforeAll(async () => {
  store = new FakeState();
  const projection = new Projection(store);
  for (const order of placed) {
    const steps = happyPath(order.id, order.at);
    if (order.outcome === 'RUNNING') steps.splice(2);
    if (order.outcome === 'FAILED') {
      steps.splice(
        3,
        1,
        step(order.id, 'shipping_failed', order.at + 300),
        step(order.id, 'compensated', order.at + 400),
      );
    }
    await projection.take(...steps);
  }
});

/** Every page of a query, following the cursors. */
async function allPages(query: Omit<ListQuery, 'after'>, limits?: { maxReads: number; parallelReads: number }) {
  const pages: string[][] = [];
  let after: ListQuery['after'];
  for (let guard = 0; guard < 100; guard++) {
    const page = await listOrders(store, { ...query, ...(after ? { after } : {}) }, limits);
    pages.push(page.orders.map((order) => order.id));
    if (!page.next) return pages;
    after = page.next;
  }
  throw new Error('the cursors never ended');
}

const newestFirst = (orders: typeof placed) => [...orders].sort((a, b) => b.at - a.at).map((order) => order.id);

describe('listing orders', () => {
  it('pages through every order once, newest first, in pages of the limit', async () => {
    const pages = await allPages({ limit: 7 });
    expect(pages.flat()).toEqual(newestFirst(placed));
    expect(pages.slice(0, -1).every((page) => page.length === 7)).toBe(true);
  });

  it('filters by status, customer (in any case) and creation time, together', async () => {
    const running = await allPages({ limit: 5, status: 'RUNNING' });
    expect(running.flat()).toEqual(newestFirst(placed.filter((order) => order.outcome === 'RUNNING')));

    const failed = await allPages({ limit: 100, status: 'FAILED' });
    expect(failed.flat()).toEqual(newestFirst(placed.filter((order) => order.outcome === 'FAILED')));

    const sam = await allPages({ limit: 4, customer: 'SAM' });
    expect(sam.flat()).toEqual(newestFirst(placed.filter((order) => order.id.includes('_sam_'))));

    const from = T0 + 10 * HOUR;
    const to = T0 + 30 * HOUR;
    const window = await allPages({ limit: 6, from, to, status: 'COMPLETED' });
    expect(window.flat()).toEqual(
      newestFirst(
        placed.filter((order) => T0 + order.at >= from && T0 + order.at < to && order.outcome === 'COMPLETED'),
      ),
    );
  });

  it('filters by the last step', async () => {
    const page = await listOrders(store, { limit: 100, lastStep: 'stock_reserved' });
    expect(page.orders.map((order) => order.id)).toEqual(newestFirst(placed.filter((o) => o.outcome === 'RUNNING')));
    expect(page.next).toBeUndefined();
  });

  it('reads a bounded number of records per page: a sparse filter comes back short, with a cursor that goes on', async () => {
    const limits = { maxReads: 12, parallelReads: 4 };
    const pages = await allPages({ limit: 20, status: 'FAILED' }, limits);
    expect(pages.length).toBeGreaterThan(2);
    expect(pages.flat()).toEqual(newestFirst(placed.filter((order) => order.outcome === 'FAILED')));
  });

  it('gives an empty page for a window without orders', async () => {
    const page = await listOrders(store, { limit: 20, from: T0 - 5 * HOUR, to: T0 - HOUR });
    expect(page).toEqual({ orders: [] });
  });

  it('leaves out a purged order', async () => {
    const own = new FakeState();
    const projection = new Projection(own);
    for (const id of ['order_a_aaaaa', 'order_b_bbbbb']) await projection.take(...happyPath(id));
    await projection.index.markPurged('order_a_aaaaa');
    const page = await listOrders(own, { limit: 20 });
    expect(page.orders.map((order) => order.id)).toEqual(['order_b_bbbbb']);
  });
});
