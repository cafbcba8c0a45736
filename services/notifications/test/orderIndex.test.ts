import { describe, expect, it } from 'vitest';
import type { Notification } from '#shared/messages.ts';
import { FakeState, touches, yieldToOthers } from '../../shared/test/fakeState.ts';
import { listOrders } from '../src/orderIndex/listing.ts';
import { advanceRecord, type IndexedOrder, newRecord, runningEntryAfter } from '../src/orderIndex/model.ts';
import {
  type Bucket,
  bucketKey,
  DAYS_KEY,
  dayKey,
  OrderIndex,
  type RunningShard,
  recordKey,
  runningKey,
} from '../src/orderIndex/orderIndex.ts';
import { at, happyPath, step, T0 } from './indexHelpers.ts';

const ID = 'order_riley_aaaaa';

/** Applies the steps in the order given, as the index's record writes do. */
function replay(steps: Notification[]): IndexedOrder | undefined {
  let record: IndexedOrder | undefined;
  for (const notification of steps) {
    record = record ? (advanceRecord(record, notification) ?? record) : newRecord(notification);
  }
  return record;
}

function runningIds(store: FakeState, shards = 4): string[] {
  return Array.from({ length: shards }, (_, n) => Object.keys(store.peek<RunningShard>(runningKey(n))?.orders ?? {}))
    .flat()
    .sort();
}

describe('a record', () => {
  it('follows the steps of an order to its end, with the status the workflow ends with', () => {
    const steps = happyPath(ID);
    expect(replay(steps.slice(0, 3))).toMatchObject({ status: 'RUNNING', lastStep: 'paid', createdAt: at(0) });
    expect(replay(steps)).toMatchObject({ status: 'COMPLETED', lastStep: 'shipped', updatedAt: at(300) });
    const failed = replay([...steps.slice(0, 3), step(ID, 'shipping_failed', 400), step(ID, 'compensated', 500)]);
    expect(failed).toMatchObject({ status: 'FAILED', lastStep: 'compensated' });
    expect(replay([step(ID, 'received', 0), step(ID, 'out_of_stock', 50)])).toMatchObject({ status: 'COMPLETED' });
  });

  it('never moves backwards: a step that comes twice or late changes nothing', () => {
    const steps = happyPath(ID);
    const [received, reserved, paid, shipped] = steps as [Notification, Notification, Notification, Notification];
    expect(replay([received, reserved, paid, reserved, received])).toEqual(replay([received, reserved, paid]));
    const inOrder = replay(steps);
    expect(replay([received, reserved, paid, reserved, received, shipped, paid])).toEqual(inOrder);
    // An ended order stays ended, whatever arrives after.
    const ended = replay([received, step(ID, 'out_of_stock', 50)]) as IndexedOrder;
    expect(advanceRecord(ended, paid)).toBeUndefined();
    expect(advanceRecord(inOrder as IndexedOrder, step(ID, 'compensated', 900))).toBeUndefined();
  });

  it('measures the approval wait, from its notification to the step that ends it', () => {
    const deadline = at(60_000);
    const waiting = replay([
      step(ID, 'received', 0),
      step(ID, 'stock_reserved', 100),
      step(ID, 'waiting_for_approval', 200, { deadline }),
    ]);
    expect(waiting).toMatchObject({ deadline, waitingSince: at(200) });
    expect(waiting?.waitedMs).toBeUndefined();
    const approved = advanceRecord(waiting as IndexedOrder, step(ID, 'approved', 30_200));
    expect(approved).toMatchObject({ waitedMs: 30_000, lastStep: 'approved' });
    // A late copy of the wait's notification does not start it again.
    expect(advanceRecord(approved as IndexedOrder, step(ID, 'waiting_for_approval', 40_000))).toBeUndefined();
  });

  it('takes the deadline from its field, never from the text', () => {
    const textOnly = step(ID, 'waiting_for_approval', 200, {
      text: 'Waiting for approval. Deadline = 2026-11-22T10:00:00.000Z',
    });
    expect(replay([step(ID, 'received', 0), textOnly])).toMatchObject({ lastStep: 'waiting_for_approval' });
    expect(replay([step(ID, 'received', 0), textOnly])?.deadline).toBeUndefined();
  });

  it('takes the ending event of an order the engine was found to have ended before the event arrived', () => {
    const paid = replay(happyPath(ID).slice(0, 3)) as IndexedOrder;
    const endedByEngine: IndexedOrder = { ...paid, status: 'COMPLETED' }; // the watchdog's markEnded
    expect(advanceRecord(endedByEngine, step(ID, 'shipped', 300))).toMatchObject({
      status: 'COMPLETED',
      lastStep: 'shipped',
    });
    expect(advanceRecord({ ...paid, status: 'TERMINATED' }, step(ID, 'stock_reserved', 400))).toBeUndefined();
  });

  it('is filed under its received time when a later step reached the index first', async () => {
    const store = new FakeState();
    const index = new OrderIndex(store);
    const [received, , , shipped] = happyPath(ID) as [Notification, Notification, Notification, Notification];
    await index.take(shipped);
    expect(store.peek<IndexedOrder>(recordKey(ID))).toMatchObject({ createdAt: shipped.time, status: 'COMPLETED' });
    await index.take(received);
    expect(store.peek<IndexedOrder>(recordKey(ID))).toMatchObject({ createdAt: received.time, lastStep: 'shipped' });
    const page = await listOrders(store, { limit: 10 });
    expect(page.orders.map((order) => [order.id, order.createdAt])).toEqual([[ID, received.time]]);
  });

  it('ignores the watchdog’s own notifications (they are not steps)', () => {
    const record = replay(happyPath(ID).slice(0, 2)) as IndexedOrder;
    expect(advanceRecord(record, step(ID, 'stalled', 10_000))).toBeUndefined();
  });
});

describe('a running-set entry', () => {
  it('is added when received, follows the approval wait, and is removed at the end', () => {
    const added = runningEntryAfter(undefined, step(ID, 'received', 0));
    expect(added).toEqual({ createdAt: T0 });
    expect(runningEntryAfter(added ?? undefined, step(ID, 'stock_reserved', 100))).toBeUndefined();
    const waiting = runningEntryAfter(
      added ?? undefined,
      step(ID, 'waiting_for_approval', 200, { deadline: at(9000) }),
    );
    expect(waiting).toEqual({ createdAt: T0, waitingSince: T0 + 200, deadline: T0 + 9000 });
    const approved = runningEntryAfter(waiting ?? undefined, step(ID, 'approved', 1200));
    expect(approved).toEqual({ createdAt: T0, waitingSince: T0 + 200, waitedMs: 1000 });
    expect(runningEntryAfter(approved ?? undefined, step(ID, 'waiting_for_approval', 1300))).toBeUndefined();
    expect(runningEntryAfter(approved ?? undefined, step(ID, 'shipped', 1500))).toBeNull();
  });
});

describe('the order index', () => {
  it('files an order once in its time bucket, lists the bucket and the day, and tracks it while it runs', async () => {
    const store = new FakeState();
    const index = new OrderIndex(store);
    const [received, reserved, paid, shipped] = happyPath(ID) as Notification[];
    for (const notification of [received, reserved, paid] as Notification[]) await index.record(notification);
    await index.record(received as Notification); // a retried step publishes it again
    await index.flush(); // the steps in between reach the record a moment later

    const start = Math.floor(T0 / 10_000) * 10_000;
    expect(store.peek<Bucket>(bucketKey(start))?.entries).toEqual([{ id: ID, at: T0, customer: 'riley' }]);
    expect(store.peek(dayKey('2026-11-21'))).toEqual({ buckets: [start] });
    expect(store.peek(DAYS_KEY)).toEqual({ days: ['2026-11-21'] });
    expect(store.peek<IndexedOrder>(recordKey(ID))).toMatchObject({ status: 'RUNNING', lastStep: 'paid' });
    expect(runningIds(store)).toEqual([ID]);

    await index.record(shipped as Notification);
    expect(store.peek<IndexedOrder>(recordKey(ID))).toMatchObject({ status: 'COMPLETED', lastStep: 'shipped' });
    // The removal waits for a ride with another write of its shard, or the flush.
    await index.flush();
    expect(runningIds(store)).toEqual([]);
  });

  it('advances the record of the steps in between later, once, and leaves the running set alone', async () => {
    const store = new FakeState();
    const index = new OrderIndex(store, { runningShards: 1, advanceDelayMs: 60_000 });
    const [received, reserved, paid, shipped] = happyPath(ID) as Notification[];
    await index.record(received as Notification);
    const afterReceived = { reads: store.reads, writes: store.writes };
    await index.record(reserved as Notification);
    await index.record(paid as Notification);
    expect({ reads: store.reads, writes: store.writes }).toEqual(afterReceived);
    expect(store.peek<IndexedOrder>(recordKey(ID))?.lastStep).toBe('received');

    // The end carries the record past them: one read and one write, for the three steps.
    await index.record(shipped as Notification);
    expect({ reads: store.reads - afterReceived.reads, writes: store.writes - afterReceived.writes }).toEqual({
      reads: 1,
      writes: 1,
    });
    expect(store.peek<IndexedOrder>(recordKey(ID))).toMatchObject({ lastStep: 'shipped', status: 'COMPLETED' });
    await index.flush();
    expect(store.peek<IndexedOrder>(recordKey(ID))).toMatchObject({ lastStep: 'shipped', status: 'COMPLETED' });

    const big = 'order_sam_bbbbb';
    await index.record(step(big, 'received', 0));
    await index.record(step(big, 'stock_reserved', 100));
    await index.record(step(big, 'waiting_for_approval', 200, { deadline: at(60_000) }));
    expect(store.peek<RunningShard>(runningKey(0))?.orders[big]).toMatchObject({ waitingSince: T0 + 200 });
    await index.record(step(big, 'approved', 1200));
    expect(store.peek<RunningShard>(runningKey(0))?.orders[big]).toEqual({
      createdAt: T0,
      waitingSince: T0 + 200,
      waitedMs: 1000,
    });
    await index.flush();
  });

  it('writes a deferred step on its own when no later step comes in time', async () => {
    const store = new FakeState();
    const index = new OrderIndex(store, { advanceDelayMs: 20 });
    const [received, reserved, paid] = happyPath(ID) as Notification[];
    await index.record(received as Notification);
    await index.record(reserved as Notification);
    await index.record(paid as Notification);
    expect(store.peek<IndexedOrder>(recordKey(ID))?.lastStep).toBe('received');
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(store.peek<IndexedOrder>(recordKey(ID))).toMatchObject({ lastStep: 'paid', updatedAt: at(200) });
  });

  it('lets a removal ride along with the next write of its shard', async () => {
    const store = new FakeState();
    const index = new OrderIndex(store, { runningShards: 1, removalDelayMs: 60_000 });
    for (const notification of happyPath(ID)) await index.record(notification);
    expect(runningIds(store, 1)).toEqual([ID]);
    await index.record(step('order_sam_bbbbb', 'received', 1000));
    expect(runningIds(store, 1)).toEqual(['order_sam_bbbbb']);
    await index.flush();
  });

  it('batches the orders created at the same moment into few bucket writes, and loses none', async () => {
    const store = new FakeState();
    store.beforeSave = yieldToOthers; // every writer reads before any writes: ETag conflicts for real
    const index = new OrderIndex(store);
    const ids = Array.from({ length: 40 }, (_, n) => `order_buyer${n}_aaaaa`);
    await Promise.all(ids.map((id, n) => index.record(step(id, 'received', n))));
    const entries = store.peek<Bucket>(bucketKey(Math.floor(T0 / 10_000) * 10_000))?.entries ?? [];
    expect(entries.map((entry) => entry.id).sort()).toEqual([...ids].sort());
    const bucketWrites = store.saveLog.filter((items) => items.some((item) => item.key.startsWith('index:bucket:')));
    expect(bucketWrites.length).toBeLessThan(10);
    expect(runningIds(store)).toEqual([...ids].sort());
  });

  it('retries when the store fails, so that the step is retried and nothing is half-filed', async () => {
    const store = new FakeState();
    const index = new OrderIndex(store);
    store.failOnSave(1, touches('index:bucket:*'));
    const received = step(ID, 'received', 0);
    await expect(index.record(received)).rejects.toThrow('simulated crash');
    await index.record(received); // the workflow retries the step
    expect(store.peek<Bucket>(bucketKey(Math.floor(T0 / 10_000) * 10_000))?.entries).toHaveLength(1);
    expect(store.peek<IndexedOrder>(recordKey(ID))?.createdAt).toBe(at(0));
  });

  it('lists an order whose first try was stored but not filed: its retry files it under the stored time', async () => {
    const store = new FakeState();
    const index = new OrderIndex(store);
    store.failOnSave(1, touches('index:bucket:*'));
    await expect(index.record(step(ID, 'received', 0))).rejects.toThrow('simulated crash');
    expect(store.peek<IndexedOrder>(recordKey(ID))?.createdAt).toBe(at(0));
    // The workflow tries the step again, seconds later (another bucket): it announces `received` anew.
    await index.record(step(ID, 'received', 25_000));
    const page = await listOrders(store, { limit: 10 });
    expect(page.orders.map((order) => [order.id, order.createdAt])).toEqual([[ID, at(0)]]);
  });

  it('files an order it first hears of mid-way under the time of that step', async () => {
    const store = new FakeState();
    const index = new OrderIndex(store);
    await index.record(step(ID, 'paid', 5000));
    await index.flush();
    expect(store.peek<IndexedOrder>(recordKey(ID))).toMatchObject({ createdAt: at(5000), lastStep: 'paid' });
    expect(store.peek<Bucket>(bucketKey(Math.floor((T0 + 5000) / 10_000) * 10_000))?.entries).toHaveLength(1);
    expect(runningIds(store)).toEqual([ID]);
  });

  it('marks a purged order, and starts a new record when its id is placed again', async () => {
    const store = new FakeState();
    const index = new OrderIndex(store);
    for (const notification of happyPath(ID)) await index.record(notification);
    await index.markPurged(ID);
    expect(store.peek<IndexedOrder>(recordKey(ID))?.purged).toBe(true);
    // A late copy of the old order's first step does not bring it back…
    await index.record(step(ID, 'received', 0));
    expect(store.peek<IndexedOrder>(recordKey(ID))?.purged).toBe(true);
    // …the same id placed anew does.
    await index.record(step(ID, 'received', 60_000));
    expect(store.peek<IndexedOrder>(recordKey(ID))).toMatchObject({ createdAt: at(60_000), status: 'RUNNING' });
    expect(store.peek<IndexedOrder>(recordKey(ID))?.purged).toBeUndefined();
  });
});

describe('the directory of days', () => {
  it('lets go of the days whose records have expired, so that it stays bounded', async () => {
    const store = new FakeState();
    const index = new OrderIndex(store, { retentionMs: 2 * 86_400_000 });
    const DAY = 86_400_000;
    for (const [n, days] of [0, 1, 4, 8].entries()) {
      await index.record(step(`order_day_${'abcd'[n]?.repeat(5)}`, 'received', days * DAY));
    }
    // T0 is 2026-11-21: 8 days on is the 29th; the 26th is the oldest day a 2-day retention keeps.
    expect(store.peek<{ days: string[] }>(DAYS_KEY)?.days).toEqual(['2026-11-29']);
  });
});
