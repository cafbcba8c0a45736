// The order index: records derived from the timelines (any order of arrival, nothing stored twice), the
// creation directory, the running set, the final summaries and the marks no event says.
import { describe, expect, it } from 'vitest';
import type { Notification } from '#shared/messages.ts';
import { touches, yieldToOthers } from '../../shared/test/fakeState.ts';
import { listOrders } from '../src/orderIndex/listing.ts';
import { recordOf } from '../src/orderIndex/model.ts';
import {
  type Bucket,
  bucketKey,
  DAYS_KEY,
  dayKey,
  finalKey,
  type RunningShard,
  runningKey,
} from '../src/orderIndex/orderIndex.ts';
import { at, happyPath, Projection, step, T0 } from './indexHelpers.ts';

const ID = 'order_riley_aaaaa';
const OTHER = 'order_riley_bbbbb';
const record = (events: Notification[]) => recordOf(ID, events);

function runningIds(projection: Projection, shards = 4): string[] {
  const { store } = projection;
  return Array.from({ length: shards }, (_, n) => Object.keys(store.peek<RunningShard>(runningKey(n))?.orders ?? {}))
    .flat()
    .sort();
}

describe('a record, derived from the timeline', () => {
  it('follows the steps of an order to its end, with the status the workflow ends with', () => {
    const steps = happyPath(ID);
    expect(record(steps.slice(0, 3))).toMatchObject({ status: 'RUNNING', lastStep: 'paid', createdAt: at(0) });
    expect(record(steps)).toMatchObject({ status: 'COMPLETED', lastStep: 'shipped', updatedAt: at(300) });
    const failed = record([...steps.slice(0, 3), step(ID, 'shipping_failed', 400), step(ID, 'compensated', 500)]);
    expect(failed).toMatchObject({ status: 'FAILED', lastStep: 'compensated' });
    expect(record([step(ID, 'received', 0), step(ID, 'out_of_stock', 50)])).toMatchObject({ status: 'COMPLETED' });
  });

  it('is the same whatever order the events arrived in', () => {
    const steps = happyPath(ID);
    expect(record([...steps].reverse())).toEqual(record(steps));
    expect(record([steps[3], steps[0]] as Notification[])).toMatchObject({ createdAt: at(0), lastStep: 'shipped' });
  });

  it('measures the approval wait, from its notification to the step that ends it', () => {
    const deadline = at(60_000);
    const waiting = [step(ID, 'received', 0), step(ID, 'waiting_for_approval', 200, { deadline })];
    expect(record(waiting)).toMatchObject({ deadline, waitingSince: at(200) });
    expect(record(waiting)?.waitedMs).toBeUndefined();
    expect(record([...waiting, step(ID, 'approved', 30_200)])).toMatchObject({
      waitedMs: 30_000,
      lastStep: 'approved',
    });
    // The approval may not have arrived: the first step after the wait ends it.
    expect(record([...waiting, step(ID, 'paid', 40_200)])?.waitedMs).toBe(40_000);
  });

  it('takes the deadline from its field, never from the text', () => {
    const textOnly = step(ID, 'waiting_for_approval', 200, { text: 'Waiting. Deadline = 2026-11-22T10:00:00.000Z' });
    expect(record([step(ID, 'received', 0), textOnly])?.deadline).toBeUndefined();
  });

  it('lists the watchdog’s flags, and is not moved by them (they are not steps)', () => {
    const flagged = record([...happyPath(ID).slice(0, 2), step(ID, 'stalled', 10_000)]);
    expect(flagged).toMatchObject({ lastStep: 'stock_reserved', updatedAt: at(100), flags: ['stalled'] });
  });

  it('shows the engine’s end until an ending event says how the order ended', () => {
    const paid = happyPath(ID).slice(0, 3);
    const ended = { ended: { status: 'TERMINATED' as const, at: T0 + 5000 } };
    expect(recordOf(ID, paid, ended)).toMatchObject({ status: 'TERMINATED', updatedAt: at(5000), lastStep: 'paid' });
    expect(recordOf(ID, [...paid, step(ID, 'shipped', 300)], ended)).toMatchObject({ status: 'COMPLETED' });
  });
});

describe('the order index', () => {
  it('files an order once in its time bucket, lists the bucket and the day, and tracks it while it runs', async () => {
    const projection = new Projection();
    const { store, index } = projection;
    const [received, reserved, paid, shipped] = happyPath(ID) as Notification[];
    await projection.take(received as Notification, reserved as Notification, paid as Notification);
    await projection.take(received as Notification); // a redelivery, or a retried step's copy

    const start = Math.floor(T0 / 10_000) * 10_000;
    expect(store.peek<Bucket>(bucketKey(start))?.entries).toEqual([{ id: ID, at: T0, customer: 'riley' }]);
    expect(store.peek(dayKey('2026-11-21'))).toEqual({ buckets: [start] });
    expect(store.peek(DAYS_KEY)).toEqual({ days: ['2026-11-21'] });
    expect(await index.find(ID)).toMatchObject({ status: 'RUNNING', lastStep: 'paid' });
    expect(runningIds(projection)).toEqual([ID]);

    await projection.take(shipped as Notification);
    expect(await index.find(ID)).toMatchObject({ status: 'COMPLETED', lastStep: 'shipped' });
    // The removal waits for a ride with another write of its shard, or the flush.
    await index.flush();
    expect(runningIds(projection)).toEqual([]);
  });

  it('writes nothing of its own for the steps in between, and follows the approval wait in the running set', async () => {
    const projection = new Projection(undefined, { runningShards: 1 });
    const { store } = projection;
    const [received, reserved, paid] = happyPath(ID) as Notification[];
    await projection.take(received as Notification);
    const indexWrites = () => store.saveLog.filter((items) => items.some((item) => item.key.startsWith('index:')));
    const afterReceived = indexWrites().length;
    await projection.take(reserved as Notification, paid as Notification);
    expect(indexWrites()).toHaveLength(afterReceived);

    const big = 'order_sam_bbbbb';
    await projection.take(step(big, 'received', 0), step(big, 'stock_reserved', 100));
    await projection.take(step(big, 'waiting_for_approval', 200, { deadline: at(60_000) }));
    expect(store.peek<RunningShard>(runningKey(0))?.orders[big]).toMatchObject({ waitingSince: T0 + 200 });
    await projection.take(step(big, 'approved', 1200));
    expect(store.peek<RunningShard>(runningKey(0))?.orders[big]).toEqual({
      createdAt: T0,
      waitingSince: T0 + 200,
      waitedMs: 1000,
    });
  });

  it('keeps how an order ended, once', async () => {
    const projection = new Projection();
    const result = { success: true, message: 'Order processed successfully' };
    const shipped = step(ID, 'shipped', 300, { result });
    await projection.take(...happyPath(ID).slice(0, 3), shipped, shipped);
    expect(projection.store.peek(finalKey(ID))).toEqual({ status: 'COMPLETED', at: at(300), ...result });
    expect(await projection.index.final(ID)).toMatchObject(result);
  });

  it('lets a removal ride along with the next write of its shard', async () => {
    const projection = new Projection(undefined, { runningShards: 1, removalDelayMs: 60_000 });
    await projection.take(...happyPath(ID));
    expect(runningIds(projection, 1)).toEqual([ID]);
    await projection.take(step('order_sam_bbbbb', 'received', 1000));
    expect(runningIds(projection, 1)).toEqual(['order_sam_bbbbb']);
    await projection.index.flush();
  });

  it('batches the orders created at the same moment into few bucket writes, and loses none', async () => {
    const projection = new Projection();
    const { store } = projection;
    store.beforeSave = yieldToOthers; // every writer reads before any writes: ETag conflicts for real
    const ids = Array.from({ length: 40 }, (_, n) => `order_buyer${n}_aaaaa`);
    await Promise.all(ids.map((id, n) => projection.take(step(id, 'received', n))));
    const entries = store.peek<Bucket>(bucketKey(Math.floor(T0 / 10_000) * 10_000))?.entries ?? [];
    expect(entries.map((entry) => entry.id).sort()).toEqual([...ids].sort());
    const bucketWrites = store.saveLog.filter((items) => items.some((item) => item.key.startsWith('index:bucket:')));
    expect(bucketWrites.length).toBeLessThan(10);
    expect(runningIds(projection)).toEqual([...ids].sort());
  });

  it('throws when the store fails, so that the event is redelivered, and files it once then', async () => {
    const projection = new Projection();
    const { store } = projection;
    store.failOnSave(1, touches('index:bucket:*'));
    const received = step(ID, 'received', 0);
    await expect(projection.take(received)).rejects.toThrow('simulated crash');
    await projection.take(received); // the redelivery
    expect(store.peek<Bucket>(bucketKey(Math.floor(T0 / 10_000) * 10_000))?.entries).toHaveLength(1);
    expect((await projection.index.find(ID))?.createdAt).toBe(at(0));
  });

  it('lists an order whose first try was stored but not filed: its retry files it under the stored time', async () => {
    const projection = new Projection();
    projection.store.failOnSave(1, touches('index:bucket:*'));
    await expect(projection.take(step(ID, 'received', 0))).rejects.toThrow('simulated crash');
    // The workflow tries the step again, seconds later (another bucket): it announces `received` anew.
    await projection.take(step(ID, 'received', 25_000));
    const page = await listOrders(projection.store, { limit: 10 });
    expect(page.orders.map((order) => [order.id, order.createdAt])).toEqual([[ID, at(0)]]);
  });

  it('files an order it first hears of mid-way under the time of that step, and under its received once that comes', async () => {
    const projection = new Projection();
    await projection.take(step(ID, 'paid', 5000));
    expect(await projection.index.find(ID)).toMatchObject({ createdAt: at(5000), lastStep: 'paid' });
    expect(runningIds(projection)).toEqual([ID]);
    await projection.take(step(ID, 'received', 0));
    const page = await listOrders(projection.store, { limit: 10 });
    expect(page.orders.map((order) => [order.id, order.createdAt])).toEqual([[ID, at(0)]]);
  });

  it('marks a purged order, which stays out of the list and the running set', async () => {
    const projection = new Projection();
    await projection.take(...happyPath(ID).slice(0, 2));
    await projection.index.markPurged(ID);
    expect(await projection.index.find(ID)).toMatchObject({ purged: true });
    expect(runningIds(projection)).toEqual([]);
    await projection.take(step(ID, 'received', 0)); // a late copy does not bring it back
    expect((await listOrders(projection.store, { limit: 10 })).orders).toEqual([]);
  });

  it("keeps the engine's summary of a purged order whose last step has not arrived; whichever summary comes first stays", async () => {
    const projection = new Projection();
    const engines = { status: 'COMPLETED', at: at(900), success: true, message: 'as the engine has it' } as const;
    await projection.take(...happyPath(ID).slice(0, 3));
    await projection.index.markPurged(ID, engines);
    expect(await projection.index.final(ID)).toEqual(engines);
    await projection.take(step(ID, 'shipped', 300, { result: { success: true, message: 'as the step has it' } }));
    expect(await projection.index.final(ID)).toEqual(engines); // the first kept stays

    await projection.take(step(OTHER, 'shipped', 300, { result: { success: true, message: 'as the step has it' } }));
    await projection.index.markPurged(OTHER, { ...engines, message: 'late' });
    expect((await projection.index.final(OTHER))?.message).toBe('as the step has it');
  });
});

describe('the directory of days', () => {
  it('lets go of the days whose buckets have expired, so that it stays bounded', async () => {
    const projection = new Projection(undefined, { retentionMs: 2 * 86_400_000 });
    const DAY = 86_400_000;
    for (const [n, days] of [0, 1, 4, 8].entries()) {
      await projection.take(step(`order_day_${'abcd'[n]?.repeat(5)}`, 'received', days * DAY));
    }
    // T0 is 2026-11-21: 8 days on is the 29th; the 26th is the oldest day a 2-day retention keeps.
    expect(projection.store.peek<{ days: string[] }>(DAYS_KEY)?.days).toEqual(['2026-11-29']);
  });
});
