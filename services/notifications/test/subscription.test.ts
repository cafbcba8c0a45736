import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { DaprError } from '#shared/dapr.ts';
import { createServiceApp } from '#shared/http.ts';
import { FakeState, touches } from '../../shared/test/fakeState.ts';
import { buildApp, loadNotificationsConfig } from '../src/app.ts';
import { type LiveMessage, LiveUpdates } from '../src/live.ts';
import { finalKey, OrderIndex } from '../src/orderIndex/orderIndex.ts';
import { ReadModel, timelineKey } from '../src/readModel.ts';
import { type BulkAnswer, MAX_BULK_ENTRIES, registerSubscription } from '../src/subscription.ts';
import { bulkRequest, entry, note, ORDER } from './bulk.ts';

const root = join(import.meta.dirname, '../../..');

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const close of cleanup.splice(0).reverse()) await close();
});

/** The subscription routes alone, with the read model and live updates in reach of the test. */
function setup() {
  const store = new FakeState();
  const model = new ReadModel(store);
  const index = new OrderIndex(store);
  const live = new LiveUpdates();
  const published: LiveMessage[] = [];
  live.subscribe((message) => published.push(message));
  const app = createServiceApp({ name: 'notifications', logLevel: 'silent' });
  app.register(async (scoped) => registerSubscription(scoped as typeof app, { model, index, live }));
  cleanup.push(() => app.close());
  const deliver = async (...entries: Parameters<typeof bulkRequest>[0]) => {
    const answer = await app.inject(bulkRequest(entries));
    expect(answer.statusCode).toBe(200);
    return (answer.json() as BulkAnswer).statuses;
  };
  return { app, store, model, index, published, deliver };
}

const storedIds = async (model: ReadModel, orderId = ORDER) =>
  (await model.timeline(orderId))?.events.map((event) => event.id);

describe('the order index, fed by the same deliveries', () => {
  it('moves the order’s record on with its steps, notes a flag, and keeps the ending’s result for good', async () => {
    const { store, index, deliver } = setup();
    await deliver(entry('e1', note('received', ORDER, 1)), entry('e2', note('stock_reserved', ORDER, 2)));
    await deliver(entry('e3', note('stalled', ORDER, 3)));
    expect(await index.find(ORDER)).toMatchObject({
      lastStep: 'stock_reserved',
      status: 'RUNNING',
      flags: ['stalled'],
    });
    expect((await index.runningOrders()).map(([id]) => id)).toEqual([ORDER]);

    const result = { success: true, message: 'Order processed successfully' };
    await deliver(entry('e4', note('shipped', ORDER, 4, { result })));
    expect(await index.find(ORDER)).toMatchObject({ lastStep: 'shipped', status: 'COMPLETED' });
    await index.flush(); // the removal from the running set rides along with the shard's next write
    expect(store.peek(finalKey(ORDER))).toEqual({ status: 'COMPLETED', at: note('shipped', ORDER, 4).time, ...result });
    expect(await index.runningOrders()).toEqual([]);
  });

  it('asks for a redelivery when the index cannot be written, and takes it then, once', async () => {
    const { store, model, index, deliver } = setup();
    store.failOnSave(1, touches('index:bucket:*'), new DaprError('save state: redis down', 500, undefined));
    expect(await deliver(entry('e1', note('received')))).toEqual([{ entryId: 'e1', status: 'RETRY' }]);
    expect(await deliver(entry('e1', note('received')))).toEqual([{ entryId: 'e1', status: 'SUCCESS' }]);
    expect(await index.find(ORDER)).toMatchObject({ lastStep: 'received', createdAt: note('received').time });
    expect(store.saveLog.filter(touches('index:bucket:*'))).toHaveLength(2); // the failed one, then once
    expect(await storedIds(model)).toEqual([`${ORDER}:received`]);
  });
});

describe('POST /notifications/bulk (the bulk subscription)', () => {
  it('answers every entry by its id: new and duplicate SUCCESS, not a notification or not a CloudEvent DROP', async () => {
    const { model, published, deliver } = setup();
    expect(await deliver(entry('e0', note('received')))).toEqual([{ entryId: 'e0', status: 'SUCCESS' }]);

    const statuses = await deliver(
      entry('e1', note('stock_reserved', ORDER, 2)),
      entry('e2', { hello: 'world' }),
      entry('e3', note('received')), // stored by the batch before
      entry('e4', note('paid', ORDER, 3)),
      entry('e5', note('paid', ORDER, 3)), // the same notification twice in one batch
      { entryId: 'e6', event: 'eyJkYXRhIjoxfQ==' }, // a raw payload, not a CloudEvent
    );
    expect(statuses).toEqual([
      { entryId: 'e1', status: 'SUCCESS' },
      { entryId: 'e2', status: 'DROP' },
      { entryId: 'e3', status: 'SUCCESS' },
      { entryId: 'e4', status: 'SUCCESS' },
      { entryId: 'e5', status: 'SUCCESS' },
      { entryId: 'e6', status: 'DROP' },
    ]);
    expect(await storedIds(model)).toEqual([`${ORDER}:received`, `${ORDER}:stock_reserved`, `${ORDER}:paid`]);
    // Live clients hear of each notification once, when it was first stored.
    expect(published.map((message) => message.event.id)).toEqual([
      `${ORDER}:received`,
      `${ORDER}:stock_reserved`,
      `${ORDER}:paid`,
    ]);
    expect(published.at(-1)?.order).toMatchObject({ orderId: ORDER, state: 'paid', version: 3 });
  });

  it('asks for a redelivery of the entries whose store failed only; the redelivery stores them', async () => {
    const { model, store, deliver } = setup();
    const other = 'order_sam_bbbbb';
    // The batch's save fails (it holds the other order's timeline), and so does that order's own try after
    // it: the notifications stored alone then answer SUCCESS, that one RETRY.
    for (let n = 0; n < 2; n++) {
      store.failOnSave(1, touches(`timeline:${other}`), new DaprError('save state: redis down', 500, undefined));
    }

    const statuses = await deliver(
      entry('e1', note('received')),
      entry('e2', note('received', other)),
      entry('e3', note('stock_reserved', ORDER, 2)),
    );
    expect(statuses).toEqual([
      { entryId: 'e1', status: 'SUCCESS' },
      { entryId: 'e2', status: 'RETRY' },
      { entryId: 'e3', status: 'SUCCESS' },
    ]);
    expect(await storedIds(model)).toEqual([`${ORDER}:received`, `${ORDER}:stock_reserved`]);
    expect(await storedIds(model, other)).toBeUndefined();

    expect(await deliver(entry('e2-again', note('received', other)))).toEqual([
      { entryId: 'e2-again', status: 'SUCCESS' },
    ]);
    expect(await storedIds(model, other)).toEqual([`${other}:received`]);
    expect((await model.recent()).orders.map((order) => order.orderId).sort()).toEqual([ORDER, other].sort());
  });

  it('drops a notification whose timeline is full, and keeps the others of the batch', async () => {
    const store = new FakeState();
    const model = new ReadModel(store, { maxEventsPerOrder: 1 });
    const app = createServiceApp({ name: 'notifications', logLevel: 'silent' });
    const index = new OrderIndex(store);
    app.register(async (scoped) =>
      registerSubscription(scoped as typeof app, { model, index, live: new LiveUpdates() }),
    );
    cleanup.push(() => app.close());
    await app.inject(bulkRequest([entry('e1', note('received'))]));
    const answer = await app.inject(
      bulkRequest([entry('e2', note('stock_reserved', ORDER, 2)), entry('e3', note('received', 'order_sam_bbbbb'))]),
    );
    expect(answer.json()).toEqual({
      statuses: [
        { entryId: 'e2', status: 'DROP' },
        { entryId: 'e3', status: 'SUCCESS' },
      ],
    });
  });

  it('records a batch with one read and one write of all its timelines, and one write of the index', async () => {
    const { model, store, deliver } = setup();
    const orders = Array.from({ length: 9 }, (_, n) => `order_riley_${String(n).padStart(5, 'a')}`);
    const statuses = await deliver(
      ...orders.map((orderId, n) => entry(`e${n}`, note('received', orderId))),
      entry('e9', note('stock_reserved', orders[0], 2)),
    );
    expect(statuses.every((answer) => answer.status === 'SUCCESS')).toBe(true);
    const timelineSaves = store.saveLog.filter(touches('timeline:*'));
    expect(timelineSaves.map((items) => items.length)).toEqual([9]);
    expect(store.bulkReads).toBe(1);
    expect(model.timelineCommits).toBe(1);
    expect(model.indexCommits).toBe(1);
    expect(await storedIds(model, orders[0])).toEqual([`${orders[0]}:received`, `${orders[0]}:stock_reserved`]);
    expect((await model.recent()).orders).toHaveLength(9);
  });

  it('stores a batch whose save lost a race one notification at a time, each once', async () => {
    const { model, store, deliver } = setup();
    const other = 'order_sam_bbbbb';
    // Another writer stores the other order's first notification after the batch read its timeline.
    store.beforeSave = (items, fake) => {
      if (items.length > 1 && !fake.peek(timelineKey(other))) {
        fake.put(timelineKey(other), { orderId: other, events: [{ ...note('received', other), at: 1 }] });
      }
    };
    const statuses = await deliver(entry('e1', note('received')), entry('e2', note('received', other)));
    expect(statuses.map((answer) => answer.status)).toEqual(['SUCCESS', 'SUCCESS']);
    expect(store.conflicts).toBe(1);
    expect(await storedIds(model)).toEqual([`${ORDER}:received`]);
    expect(await storedIds(model, other)).toEqual([`${other}:received`]);
  });

  it('refuses a body that is not a batch with 422 (daprd then redelivers the batch), and a bad JSON with 400', async () => {
    const { app } = setup();
    const notBatch = await app.inject({ ...bulkRequest([]), payload: JSON.stringify({ data: note('received') }) });
    expect(notBatch.statusCode).toBe(422);
    const noEntryId = await app.inject({
      ...bulkRequest([]),
      payload: JSON.stringify({ entries: [{ event: {} }] }),
    });
    expect(noEntryId.statusCode).toBe(422);
    expect((await app.inject({ ...bulkRequest([]), payload: '{nope' })).statusCode).toBe(400);
    expect((await app.inject(bulkRequest([]))).json()).toEqual({ statuses: [] });
  });

  it('takes a batch larger than the 64 KiB the app takes elsewhere', async () => {
    const { deliver } = setup();
    const text = 'x'.repeat(1000);
    const orders = Array.from({ length: 100 }, (_, n) => `order_riley_${String(n).padStart(5, 'a')}`);
    const statuses = await deliver(
      ...orders.map((orderId, n) => entry(`e${n}`, note('received', orderId, 1, { text }))),
    );
    expect(statuses.filter((answer) => answer.status === 'SUCCESS')).toHaveLength(100);
  });

  it(`refuses a batch of more than ${MAX_BULK_ENTRIES} entries with 422, storing none of it`, async () => {
    const { app, store } = setup();
    const orders = Array.from({ length: MAX_BULK_ENTRIES + 1 }, (_, n) => `order_riley_${String(n).padStart(5, 'a')}`);
    const answer = await app.inject(bulkRequest(orders.map((orderId, n) => entry(`e${n}`, note('received', orderId)))));
    expect(answer.statusCode).toBe(422);
    expect(answer.json().message).toMatch(/^body\.entries: .*100/);
    expect(store.keys()).toEqual([]);
  });

  it('takes every batch the subscriptions can deliver (maxMessagesCount within the cap)', () => {
    for (const file of ['components/subscription.yaml', 'deploy/kubernetes/base/dapr/subscription.yaml']) {
      const subscription = parse(readFileSync(join(root, file), 'utf8'));
      expect(subscription.spec.bulkSubscribe.maxMessagesCount, file).toBeLessThanOrEqual(MAX_BULK_ENTRIES);
    }
  });

  it('is for the sidecar only: without its token 401, and nothing is stored', async () => {
    const store = new FakeState();
    const config = loadNotificationsConfig({ APP_PORT: '3001', LOG_LEVEL: 'silent', APP_API_TOKEN: 'app-token' });
    const app = buildApp({ config, store });
    cleanup.push(() => app.close());
    const batch = [entry('e1', note('received'))];
    expect((await app.inject(bulkRequest(batch))).statusCode).toBe(401);
    expect((await app.inject(bulkRequest(batch, { 'dapr-api-token': 'wrong' }))).statusCode).toBe(401);
    // Nothing but the count of refused requests (the rate limits').
    expect(store.keys().filter((key) => !key.startsWith('ratelimit:auth-failures:'))).toEqual([]);
    const answer = await app.inject(bulkRequest(batch, { 'dapr-api-token': 'app-token' }));
    expect(answer.json()).toEqual({ statuses: [{ entryId: 'e1', status: 'SUCCESS' }] });
  });
});
