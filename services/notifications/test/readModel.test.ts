import { describe, expect, it } from 'vitest';
import type { Notification, NotificationKind } from '#shared/messages.ts';
import { FakeState, touches, yieldToOthers } from '../../shared/test/fakeState.ts';
import { customerOf, deriveState } from '../src/orderState.ts';
import {
  INDEX_KEY,
  mergeRecent,
  type OrderSummary,
  type OrderTimeline,
  ReadModel,
  type RecentOrders,
  TimelineFull,
  timelineKey,
} from '../src/readModel.ts';

const ORDER = 'order_riley_aaaaa';
const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);

const TEXTS: Partial<Record<NotificationKind, string>> = {
  received: 'Received order for Riley: [milk, iPhone]. Total = 1299',
  waiting_for_approval:
    'Waiting for approval: the total of $1299 is $1000 or more. Deadline = 2026-01-02T12:00:02.000Z',
};
/** The data the workflow puts in the fields of each kind (the texts above say it for people). */
const DATA: Partial<Record<NotificationKind, Partial<Notification>>> = {
  received: { customer: 'Riley', items: ['milk', 'iPhone'], total: 1299 },
  waiting_for_approval: { total: 1299, deadline: '2026-01-02T12:00:02.000Z' },
};

/** The notification the workflow publishes for `kind` as its `step`-th step (1 s apart). */
function note(kind: NotificationKind, step = 1, orderId = ORDER, extra: Partial<Notification> = {}): Notification {
  return {
    id: `${orderId}:${kind}`,
    orderId,
    time: new Date(T0 + step * 1000).toISOString(),
    kind,
    text: TEXTS[kind] ?? `${kind} text`,
    ...DATA[kind],
    ...extra,
  };
}

function setup(options: ConstructorParameters<typeof ReadModel>[1] = {}) {
  const fake = new FakeState();
  let clock = T0 + 60_000;
  const now = () => {
    clock += 10;
    return clock;
  };
  const model = new ReadModel(fake, { now, ...options });
  return {
    fake,
    model,
    now,
    setClock: (value: number) => {
      clock = value;
    },
    timeline: () => fake.peek<OrderTimeline>(timelineKey(ORDER)),
    index: () => fake.peek<RecentOrders>(INDEX_KEY),
  };
}

const kinds = (timeline: OrderTimeline | undefined) => timeline?.events.map((event) => event.kind);

describe('deriveState', () => {
  const state = (...list: NotificationKind[]) => deriveState(list.map((kind) => ({ kind, ...DATA[kind] })));

  it('follows the story, whatever order the notifications came in', () => {
    expect(state('received')).toEqual({ state: 'received' });
    expect(state('stock_reserved', 'received')).toEqual({ state: 'received' });
    expect(state('received', 'stock_reserved', 'waiting_for_approval')).toEqual({
      state: 'waiting_for_approval',
      deadline: '2026-01-02T12:00:02.000Z',
    });
    expect(state('waiting_for_approval', 'approved')).toEqual({ state: 'approved' });
    expect(state('paid', 'approved', 'received')).toEqual({ state: 'paid' });
    expect(state('shipped', 'received', 'paid')).toEqual({ state: 'shipped' });
  });

  it('names how an order ended when it did not ship', () => {
    expect(state('received', 'out_of_stock')).toEqual({ state: 'cancelled', reason: 'out of stock' });
    expect(state('waiting_for_approval', 'rejected')).toEqual({ state: 'cancelled', reason: 'rejected' });
    expect(state('waiting_for_approval', 'cancelled')).toEqual({
      state: 'cancelled',
      reason: 'cancelled by an approver',
    });
    expect(state('waiting_for_approval', 'approval_timed_out')).toEqual({
      state: 'cancelled',
      reason: 'approval timed out',
    });
    expect(state('paid', 'shipping_failed')).toEqual({ state: 'failed', reason: 'shipping failed' });
    expect(state('payment_failed', 'compensated')).toEqual({ state: 'failed', reason: 'payment failed' });
  });

  it('names the step that failed a compensated order from its field', () => {
    const failed = (failedStep: 'reservation' | 'payment' | 'shipping') =>
      deriveState([{ kind: 'received' }, { kind: 'compensated', failedStep }]);
    expect(failed('reservation')).toEqual({ state: 'failed', reason: 'reservation failed' });
    expect(failed('payment')).toEqual({ state: 'failed', reason: 'payment failed' });
    expect(failed('shipping')).toEqual({ state: 'failed', reason: 'shipping failed' });
  });

  it('tells the failed step of events stored before they carried it from how far the order got', () => {
    expect(state('compensated', 'paid')).toEqual({ state: 'failed', reason: 'shipping failed' });
    expect(state('received', 'compensated')).toEqual({ state: 'failed', reason: 'reservation failed' });
  });
});

describe('the watchdog’s flags', () => {
  const state = (...list: NotificationKind[]) => deriveState(list.map((kind) => ({ kind, ...DATA[kind] })));

  it('mark an order while they still apply: stalled until it ends, deadline near while it waits', () => {
    expect(state('received', 'paid', 'stalled')).toEqual({ state: 'paid', flags: ['stalled'] });
    expect(state('received', 'paid', 'stalled', 'shipped')).toEqual({ state: 'shipped' });
    expect(state('received', 'waiting_for_approval', 'approval_deadline_near')).toEqual({
      state: 'waiting_for_approval',
      deadline: '2026-01-02T12:00:02.000Z',
      flags: ['approval_deadline_near'],
    });
    expect(state('waiting_for_approval', 'approval_deadline_near', 'approved')).toEqual({ state: 'approved' });
    expect(state('waiting_for_approval', 'approval_deadline_near', 'approval_timed_out')).toMatchObject({
      state: 'cancelled',
    });
  });

  it('leave the timeline in workflow order, after the step they were raised in', async () => {
    const { model, timeline } = setup();
    await model.record(note('received', 1));
    await model.record(note('paid', 2));
    await model.record(note('stalled', 3));
    expect(kinds(timeline())).toEqual(['received', 'paid', 'stalled']);
    expect((await model.recent()).orders[0]).toMatchObject({ state: 'paid', flags: ['stalled'], version: 3 });
  });
});

describe('a deadline', () => {
  it('comes from the notification’s own field, never from its text', () => {
    const deadline = '2026-01-05T00:00:00.000Z';
    expect(deriveState([{ kind: 'waiting_for_approval', deadline }])).toEqual({
      state: 'waiting_for_approval',
      deadline,
    });
    const textOnly = { ...note('waiting_for_approval'), deadline: undefined };
    expect(textOnly.text).toMatch(/Deadline = /);
    expect(deriveState([textOnly])).toEqual({ state: 'waiting_for_approval' });
  });
});

describe('customerOf', () => {
  it('takes the notifications’ field, never a text', () => {
    expect(customerOf([{ customer: 'Sam' }])).toBe('Sam');
    expect(customerOf([{}, { customer: '<img src=x onerror=alert(1)>' }])).toBe('<img src=x onerror=alert(1)>');
    expect(customerOf([{ ...note('received'), customer: undefined }])).toBeUndefined();
  });
});

describe('ReadModel.record', () => {
  it('keeps an order’s notifications in workflow order and its summary in the index', async () => {
    const { model, timeline, index } = setup();
    await model.record(note('stock_reserved', 2));
    await model.record(note('received', 1));
    const last = await model.record(note('waiting_for_approval', 3));

    expect(kinds(timeline())).toEqual(['received', 'stock_reserved', 'waiting_for_approval']);
    expect(last.order).toMatchObject({
      orderId: ORDER,
      customer: 'Riley',
      state: 'waiting_for_approval',
      deadline: '2026-01-02T12:00:02.000Z',
      createdAt: note('received', 1).time,
      version: 3,
    });
    expect(index()?.orders).toEqual([last.order]);
  });

  it('stores a redelivered notification once, and tells nobody about it again', async () => {
    const { fake, model, timeline } = setup();
    const first = await model.record(note('received'));
    const writes = fake.writes;
    const again = await model.record({ ...note('received'), text: 'a redelivery, same id' });

    expect(first).toMatchObject({ isNew: true, publish: true });
    expect(again).toMatchObject({ isNew: false, publish: false, event: first.event });
    expect(timeline()?.events).toEqual([first.event]);
    expect(fake.writes).toBe(writes); // neither the timeline nor the index was written again
  });

  it('keeps every notification of an order that arrive at the same time, each once', async () => {
    const { fake, model, timeline } = setup();
    fake.beforeSave = yieldToOthers;
    const all: NotificationKind[] = ['received', 'stock_reserved', 'paid', 'shipped'];
    await Promise.all([...all, ...all].map((kind, n) => model.record(note(kind, (n % 4) + 1))));
    expect(kinds(timeline())).toEqual(all);
    expect(fake.conflicts).toBe(0); // they took turns in this process
  });

  it('keeps every notification when two replicas write the same order (ETags, create-only first write)', async () => {
    const { fake, now } = setup();
    const replicas = [new ReadModel(fake, { now }), new ReadModel(fake, { now })];
    fake.beforeSave = yieldToOthers;
    const all: NotificationKind[] = ['received', 'stock_reserved', 'paid', 'shipped'];
    await Promise.all(all.map((kind, n) => replicas[n % 2]?.record(note(kind, n + 1))));
    expect(kinds(fake.peek<OrderTimeline>(timelineKey(ORDER)))).toEqual(all);
    expect(fake.peek<RecentOrders>(INDEX_KEY)?.orders[0]).toMatchObject({ state: 'shipped', version: 4 });
    expect(fake.conflicts).toBeGreaterThan(0);
  });

  it('repairs the index on redelivery after a crash between the timeline write and the index write', async () => {
    const { fake, model, timeline, index } = setup();
    await model.record(note('received', 1));
    fake.failOnSave(1, touches(INDEX_KEY));

    await expect(model.record(note('stock_reserved', 2))).rejects.toThrow('simulated crash');
    expect(kinds(timeline())).toEqual(['received', 'stock_reserved']);
    expect(index()?.orders[0]?.version).toBe(1);

    const redelivered = await model.record(note('stock_reserved', 2));
    expect(redelivered).toMatchObject({ isNew: false, publish: true }); // live clients never heard of it
    expect(index()?.orders[0]?.version).toBe(2);
    expect(kinds(timeline())).toEqual(['received', 'stock_reserved']);
  });

  it('writes the index once for many notifications that arrive together (group commit)', async () => {
    const { fake, model, index } = setup();
    fake.beforeSave = yieldToOthers;
    const ids = Array.from({ length: 20 }, (_, n) => `order_buyer${n}_aaaaa`);
    await Promise.all(ids.map((orderId) => model.record(note('received', 1, orderId))));
    expect(
      index()
        ?.orders.map((order) => order.orderId)
        .sort(),
    ).toEqual([...ids].sort());
    expect(model.indexCommits).toBeLessThan(5);
  });

  it('refuses more notifications than an order can have', async () => {
    const { model } = setup({ maxEventsPerOrder: 2 });
    await model.record(note('received', 1));
    await model.record(note('stock_reserved', 2));
    await expect(model.record(note('paid', 3))).rejects.toBeInstanceOf(TimelineFull);
  });
});

describe('the index', () => {
  const summary = (orderId: string, updatedAt: number, version: number, state = 'received'): OrderSummary =>
    ({ orderId, state, createdAt: '', updatedAt, version }) as OrderSummary;
  const limits = { maxRecent: 2, maxPending: 1 };

  it('never replaces a summary with an older one', () => {
    const { next } = mergeRecent(undefined, [summary('a', 5, 3)], limits);
    const { next: after, applied } = mergeRecent(next, [summary('a', 4, 2)], limits);
    expect(after).toBe(next);
    expect(applied.size).toBe(0);
  });

  it('keeps the waiting orders and the most recently updated others, and remembers what it dropped', () => {
    const { next } = mergeRecent(
      undefined,
      [
        summary('old', 1, 1),
        summary('wait-old', 2, 3, 'waiting_for_approval'),
        summary('wait', 3, 3, 'waiting_for_approval'),
        summary('mid', 4, 1),
        summary('new', 5, 1),
      ],
      limits,
    );
    expect(next.orders.map((order) => order.orderId)).toEqual(['new', 'mid', 'wait']);
    expect(next.evictedUpTo).toBe(2);
  });

  it('is bounded in the read model, and a reconnect from before an eviction gets a snapshot', async () => {
    const { model, index, now } = setup({ maxRecent: 3, maxPending: 2, replayMarginMs: 0 });
    const start = now();
    for (let n = 0; n < 6; n++) await model.record(note('received', 1, `order_buyer${n}_aaaaa`));
    await model.record(note('waiting_for_approval', 3, 'order_big_aaaaa'));
    expect(index()?.orders).toHaveLength(4);
    expect(await model.since(start)).toBeUndefined();
    const latest = index()?.orders[0]?.updatedAt ?? 0;
    expect((await model.since(latest - 1))?.events.map((event) => event.orderId)).toEqual(['order_big_aaaaa']);
  });
});

describe('catching up', () => {
  it('gives a snapshot of every indexed order with its events, oldest first', async () => {
    const { model } = setup();
    await model.record(note('received', 1));
    await model.record(note('received', 1, 'order_sam_bbbbb', { customer: 'Sam' }));
    await model.record(note('stock_reserved', 2));
    const snapshot = await model.snapshot();
    expect(snapshot.full).toBe(true);
    expect(snapshot.events.map((event) => event.id)).toEqual([
      `${ORDER}:received`,
      'order_sam_bbbbb:received',
      `${ORDER}:stock_reserved`,
    ]);
    expect(snapshot.orders.map((order) => [order.orderId, order.customer])).toEqual([
      [ORDER, 'Riley'],
      ['order_sam_bbbbb', 'Sam'],
    ]);
    expect(snapshot.cursor).toBeGreaterThan(Math.max(...snapshot.events.map((event) => event.at)));
  });

  it('reads the timelines of a snapshot 16 at a time, each summary beside its own order', async () => {
    const { fake, model, index } = setup();
    for (let n = 0; n < 40; n++) await model.record(note('received', 1, `order_buyer${n}_aaaaa`));
    const read = fake.getState.bind(fake);
    let inFlight = 0;
    let most = 0;
    fake.getState = async (key) => {
      most = Math.max(most, ++inFlight);
      await new Promise((resolve) => setTimeout(resolve, 1));
      inFlight--;
      return read(key);
    };
    const snapshot = await model.snapshot();
    expect(most).toBe(16);
    expect(snapshot.orders.map((order) => order.orderId)).toEqual(index()?.orders.map((order) => order.orderId));
  });

  it('gives what was stored since a cursor, also to a new instance (a restart loses nothing)', async () => {
    const { fake, model, now } = setup({ replayMarginMs: 0 });
    const first = await model.record(note('received', 1));
    const cursor = first.event.at;
    await model.record(note('stock_reserved', 2));
    await model.record(note('received', 1, 'order_sam_bbbbb'));

    const restarted = new ReadModel(fake, { now, replayMarginMs: 0 });
    const missed = await restarted.since(cursor + 1);
    expect(missed?.full).toBe(false);
    expect(missed?.events.map((event) => event.id)).toEqual([`${ORDER}:stock_reserved`, 'order_sam_bbbbb:received']);
    expect(missed?.cursor).toBe(missed?.events.at(-1)?.at);
    expect((await restarted.timeline(ORDER))?.events.map((event) => event.kind)).toEqual([
      'received',
      'stock_reserved',
    ]);
    expect((await restarted.recent()).orders).toEqual((await model.recent()).orders);
  });

  it('replays a margin before the cursor, for writes that were in flight', async () => {
    const { model } = setup({ replayMarginMs: 1_000 });
    const first = await model.record(note('received', 1));
    expect((await model.since(first.event.at + 500))?.events).toEqual([first.event]);
  });

  it('answers a snapshot for a cursor that is not one of ours', async () => {
    const { model, now } = setup();
    await model.record(note('received', 1));
    expect(await model.since(0)).toBeUndefined();
    expect(await model.since(now() + 3_600_000)).toBeUndefined();
  });
});
