import { describe, expect, it } from 'vitest';
import type { Notification } from '#shared/messages.ts';
import type { RunningEntry } from '#shared/orderProjection.ts';
import { at, step, T0 } from '../../notifications/test/indexHelpers.ts';
import { FakeState } from '../../shared/test/fakeState.ts';
import { claimKey, dueFlags, humanDuration, Watchdog, type WatchdogSettings } from '../src/watchdog.ts';
import { FakeProjection } from './fakeProjection.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;
const SETTINGS: WatchdogSettings = { intervalMs: 30_000, stalledAfterMs: 5 * MIN, approvalWarningMs: HOUR };
const ID = 'order_riley_aaaaa';

describe('what is due', () => {
  const started: RunningEntry = { createdAt: T0 };

  it('stalled: running longer than the threshold', () => {
    expect(dueFlags(started, T0 + 5 * MIN - 1, SETTINGS)).toEqual([]);
    expect(dueFlags(started, T0 + 5 * MIN, SETTINGS)).toEqual(['stalled']);
    expect(dueFlags({ ...started, flags: ['stalled'] }, T0 + HOUR, SETTINGS)).toEqual([]);
  });

  it('does not count the approval wait as running', () => {
    const waiting: RunningEntry = { createdAt: T0, waitingSince: T0 + MIN, deadline: T0 + MIN + 24 * HOUR };
    expect(dueFlags(waiting, T0 + 10 * HOUR, SETTINGS)).toEqual([]);
    // Approved after a 3-hour wait: 1 min before it + 4 min after it is 5 min of running.
    const approved: RunningEntry = { createdAt: T0, waitingSince: T0 + MIN, waitedMs: 3 * HOUR };
    expect(dueFlags(approved, T0 + MIN + 3 * HOUR + 4 * MIN - 1, SETTINGS)).toEqual([]);
    expect(dueFlags(approved, T0 + MIN + 3 * HOUR + 4 * MIN, SETTINGS)).toEqual(['stalled']);
  });

  it('approval deadline near: the warning before the deadline, at most halfway through a short wait', () => {
    const deadline = T0 + 24 * HOUR;
    const waiting: RunningEntry = { createdAt: T0, waitingSince: T0, deadline };
    expect(dueFlags(waiting, deadline - HOUR - 1, SETTINGS)).toEqual([]);
    expect(dueFlags(waiting, deadline - HOUR, SETTINGS)).toEqual(['approval_deadline_near']);
    const short: RunningEntry = { createdAt: T0, waitingSince: T0, deadline: T0 + 10 * MIN };
    expect(dueFlags(short, T0 + 5 * MIN - 1, SETTINGS)).toEqual([]);
    expect(dueFlags(short, T0 + 5 * MIN, SETTINGS)).toEqual(['approval_deadline_near']);
  });

  it('stalled too when an order still waits long after its deadline (its timer did not fire)', () => {
    const waiting: RunningEntry = {
      createdAt: T0,
      waitingSince: T0,
      deadline: T0 + HOUR,
      flags: ['approval_deadline_near'],
    };
    expect(dueFlags(waiting, T0 + HOUR + 5 * MIN - 1, SETTINGS)).toEqual([]);
    expect(dueFlags(waiting, T0 + HOUR + 5 * MIN, SETTINGS)).toEqual(['stalled']);
  });

  it('says durations as people do', () => {
    const said = [45_000, 12 * MIN, 12 * MIN + 30_400, 3 * HOUR + 5 * MIN + 20_000, 26 * HOUR].map(humanDuration);
    expect(said).toEqual(['45s', '12m', '12m 30s', '3h 5m', '1d 2h']);
  });
});

/**
 * A watchdog over a projection in this process, with a clock the test moves and the notifications it
 * published, which reach the projection as the subscription takes them (one store for both, as keys differ).
 */
function setup(store = new FakeState(), engineStatus?: (orderId: string) => Promise<string>) {
  const projection = new FakeProjection(store);
  const index = projection.index;
  const published: Notification[] = [];
  let now = T0;
  const watchdog = new Watchdog({
    projection,
    store,
    ...(engineStatus ? { engineStatus } : {}),
    publish: async (notification) => {
      published.push(notification);
      await projection.take(notification);
    },
    settings: SETTINGS,
    log: { info: () => undefined, warn: () => undefined },
    now: () => now,
  });
  return { store, index, projection, watchdog, published, setNow: (ms: number) => (now = T0 + ms) };
}

describe('the watchdog', () => {
  it('flags a stuck order once, with a notification, which marks it in the projection', async () => {
    const { projection, watchdog, published, setNow } = setup();
    await projection.take(step(ID, 'received', 0), step(ID, 'stock_reserved', 100), step(ID, 'paid', 200));

    setNow(4 * MIN);
    expect(await watchdog.check()).toEqual([]);
    setNow(6 * MIN);
    expect(await watchdog.check()).toEqual([{ orderId: ID, flag: 'stalled' }]);
    expect(published).toEqual([
      expect.objectContaining({
        id: `${ID}:stalled`,
        orderId: ID,
        kind: 'stalled',
        time: at(6 * MIN),
        customer: 'riley',
      }),
    ]);
    expect(published[0]?.text).toBe(
      'Stalled: running for 6m (not counting the approval wait); its last step, paid, was 6m ago.',
    );
    expect((await projection.find(ID))?.flags).toEqual(['stalled']);

    setNow(60 * MIN);
    expect(await watchdog.check()).toEqual([]);
    expect(published).toHaveLength(1);
  });

  it('asks the engine first: an order ended through Dapr directly is listed as such, not flagged', async () => {
    const asked: string[] = [];
    const engine: Record<string, string> = {
      [ID]: 'TERMINATED',
      order_sam_bbbbb: 'missing',
      order_kim_ccccc: 'SUSPENDED',
    };
    const { index, projection, watchdog, published, setNow } = setup(new FakeState(), async (id) => {
      asked.push(id);
      return engine[id] ?? 'RUNNING';
    });
    for (const id of Object.keys(engine)) await projection.take(step(id, 'received', 0));

    setNow(10 * MIN);
    // A suspended order is stuck for real; the terminated one ends, the one the engine no longer has goes.
    expect(await watchdog.check()).toEqual([{ orderId: 'order_kim_ccccc', flag: 'stalled' }]);
    expect(published.map((notification) => notification.orderId)).toEqual(['order_kim_ccccc']);
    expect(await projection.find(ID)).toMatchObject({ status: 'TERMINATED', updatedAt: at(10 * MIN) });
    expect((await projection.find('order_sam_bbbbb'))?.purged).toBe(true);
    expect((await index.runningOrders()).map(([id]) => id)).toEqual(['order_kim_ccccc']);
    expect(asked.sort()).toEqual(Object.keys(engine).sort());

    // Nothing is due any more for the ended ones: the engine is not asked again.
    setNow(20 * MIN);
    asked.length = 0;
    expect(await watchdog.check()).toEqual([]);
    expect(asked).toEqual([]);
  });

  it('warns of an approval deadline, and leaves orders that finished alone', async () => {
    const { projection, watchdog, published, setNow } = setup();
    const deadline = at(2 * HOUR);
    await projection.take(step(ID, 'received', 0), step(ID, 'waiting_for_approval', 100, { deadline }));
    for (const notification of [step('order_sam_bbbbb', 'received', 0), step('order_sam_bbbbb', 'shipped', 50)]) {
      await projection.take(notification);
    }
    setNow(HOUR + 30 * MIN);
    expect(await watchdog.check()).toEqual([{ orderId: ID, flag: 'approval_deadline_near' }]);
    expect(published[0]?.text).toBe(`Still waiting for approval, 30m before its deadline (${deadline}).`);
  });

  it('flags an order once however many replicas watch it', async () => {
    const store = new FakeState();
    const replicas = [setup(store), setup(store), setup(store)];
    await replicas[0]?.projection.take(step(ID, 'received', 0));
    for (const replica of replicas) replica.setNow(10 * MIN);
    const raised = await Promise.all(replicas.map((replica) => replica.watchdog.check()));
    expect(raised.flat()).toEqual([{ orderId: ID, flag: 'stalled' }]);
    expect(replicas.flatMap((replica) => replica.published)).toHaveLength(1);
  });

  it('publishes a flag once, also before its event reached the projection', async () => {
    const { store, projection, watchdog, published, setNow } = setup();
    await projection.take(step(ID, 'received', 0));
    store.put(claimKey('stalled', ID), { at: T0 + 6 * MIN, published: true }); // on its way through pub/sub
    setNow(6 * MIN + 10 * SETTINGS.intervalMs);
    expect(await watchdog.check()).toEqual([]);
    expect(published).toEqual([]);
  });

  it('takes over a flag whose claimer went away before publishing it', async () => {
    const { store, projection, watchdog, published, setNow } = setup();
    await projection.take(step(ID, 'received', 0));
    store.put(claimKey('stalled', ID), { at: T0 + 6 * MIN }); // claimed, then the replica died
    setNow(7 * MIN);
    expect(await watchdog.check()).toEqual([]);
    setNow(6 * MIN + 3 * SETTINGS.intervalMs);
    expect(await watchdog.check()).toEqual([{ orderId: ID, flag: 'stalled' }]);
    expect(published).toHaveLength(1);
  });

  it('drops a stale entry of an order that ended, and repairs one that missed the approval wait', async () => {
    const { index, projection, watchdog, published, setNow } = setup();
    await projection.take(step(ID, 'received', 0));
    // The timelines moved on, the running set did not (its writes were lost).
    await projection.parts.model.record(step(ID, 'shipped', 300));
    await projection.take(step('order_sam_bbbbb', 'received', 0));
    const deadline = at(24 * HOUR);
    await projection.parts.model.record(step('order_sam_bbbbb', 'waiting_for_approval', 10, { deadline }));

    setNow(10 * MIN);
    expect(await watchdog.check()).toEqual([]);
    expect(published).toEqual([]);
    expect((await index.runningOrders()).map(([id, entry]) => [id, entry.deadline])).toEqual([
      ['order_sam_bbbbb', T0 + 24 * HOUR],
    ]);
  });

  it('runs on its interval until stopped, and stops after the round under way', async () => {
    const { projection, store, published } = setup();
    await projection.take(step(ID, 'received', 0));
    const watchdog = new Watchdog({
      projection,
      store,
      publish: async (notification) => {
        published.push(notification);
      },
      settings: { intervalMs: 5, stalledAfterMs: 0, approvalWarningMs: 0 },
      log: { info: () => undefined, warn: () => undefined },
    });
    watchdog.start();
    await new Promise((resolve) => setTimeout(resolve, 100));
    await watchdog.stop();
    expect(published.map((notification) => notification.kind)).toEqual(['stalled']);
  });
});
