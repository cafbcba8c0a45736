import { describe, expect, it } from 'vitest';
import { FakeState } from '../../shared/test/fakeState.ts';
import { ReadModelFollower } from '../src/follower.ts';
import { type LiveMessage, LiveUpdates } from '../src/live.ts';
import { ReadModel } from '../src/readModel.ts';
import { note } from './bulk.ts';

/** Two replicas of the notifications service over one store: each stores what pub/sub hands it. */
function replicas() {
  const store = new FakeState();
  let clock = 1_000;
  const now = () => clock++;
  const make = () => {
    const model = new ReadModel(store, { now });
    const live = new LiveUpdates();
    const follower = new ReadModelFollower(model, store, live, 0);
    const record = async (...notes: Parameters<typeof note>[]) => {
      for (const args of notes) {
        const recorded = await model.record(note(...args));
        if (recorded.publish) live.publish({ event: recorded.event, order: recorded.order });
      }
    };
    return { model, live, follower, record };
  };
  return { store, a: make(), b: make() };
}

describe('a replica with live clients', () => {
  it('tells them what another replica stored, once, and not what they heard already', async () => {
    const { a, b } = replicas();
    const heard: LiveMessage[] = [];
    b.live.subscribe((message) => heard.push(message));
    await a.record(['received', 'order_riley_aaaaa', 1]);
    await b.follower.follow();
    heard.length = 0; // what was stored before the client connected came in its snapshot

    await a.record(['stock_reserved', 'order_riley_aaaaa', 2], ['received', 'order_sam_bbbbb', 3]);
    await b.record(['paid', 'order_riley_aaaaa', 4]); // stored here: its clients hear it at once
    await b.follower.follow();
    await b.follower.follow();

    expect(heard.map(({ event }) => `${event.orderId}:${event.kind}`)).toEqual([
      'order_riley_aaaaa:paid',
      'order_riley_aaaaa:stock_reserved',
      'order_sam_bbbbb:received',
    ]);
    expect(heard.at(-1)?.order.state).toBe('received');
  });

  it('follows only while it has clients', async () => {
    const { b } = replicas();
    const follower = new ReadModelFollower(b.model, new FakeState(), b.live, 10);
    const unsubscribe = b.live.subscribe(() => undefined);
    expect((follower as unknown as { timer?: unknown }).timer).toBeDefined();
    unsubscribe();
    expect((follower as unknown as { timer?: unknown }).timer).toBeUndefined();
  });
});
