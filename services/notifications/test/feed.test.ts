import { describe, expect, it, vi } from 'vitest';
import { Notification } from '#shared/messages.ts';
import { Feed } from '../src/feed.ts';

const note = (n: number, orderId = 'order_riley_aaaaa'): Notification =>
  Notification.parse({
    id: `${orderId}:n${n}`,
    orderId,
    time: new Date(Date.UTC(2026, 0, 1, 0, 0, n)).toISOString(),
    kind: 'received',
    text: `notification ${n}`,
  });

const ids = (notifications: Notification[]) => notifications.map((notification) => notification.id);

describe('Feed', () => {
  it('adds a redelivered notification once', () => {
    const feed = new Feed();
    expect(feed.add(note(1))).toBe(true);
    expect(feed.add({ ...note(1), text: 'redelivered' })).toBe(false);
    expect(feed.since(null)).toEqual([note(1)]);
  });

  it('returns what came after a given id, everything for an unknown or missing one', () => {
    const feed = new Feed();
    for (const n of [1, 2, 3, 4]) feed.add(note(n));
    expect(ids(feed.since(note(2).id))).toEqual([note(3).id, note(4).id]);
    expect(feed.since(note(4).id)).toEqual([]);
    expect(ids(feed.since(undefined))).toHaveLength(4);
    expect(ids(feed.since('no-such-id'))).toHaveLength(4);
  });

  it('calls each listener once per new notification, and not after it unsubscribes', () => {
    const feed = new Feed();
    const first = vi.fn();
    const second = vi.fn();
    const unsubscribe = feed.subscribe(first);
    feed.subscribe(second);

    feed.add(note(1));
    feed.add(note(1));
    feed.add(note(2));
    unsubscribe();
    feed.add(note(3));

    expect(first.mock.calls.map(([notification]) => notification.id)).toEqual([note(1).id, note(2).id]);
    expect(second).toHaveBeenCalledTimes(3);
  });

  it('drops the oldest when over capacity', () => {
    const feed = new Feed(3);
    for (const n of [1, 2, 3, 4, 5]) feed.add(note(n));
    expect(ids(feed.since(null))).toEqual([note(3).id, note(4).id, note(5).id]);
    // A redelivery of a kept one is still recognised.
    expect(feed.add(note(5))).toBe(false);
    expect(feed.since(null)).toHaveLength(3);
  });

  it('lists the notifications of one order', () => {
    const feed = new Feed();
    feed.add(note(1, 'order_riley_aaaaa'));
    feed.add(note(2, 'order_sam_bbbbb'));
    feed.add(note(3, 'order_riley_aaaaa'));
    expect(ids(feed.forOrder('order_riley_aaaaa'))).toEqual(['order_riley_aaaaa:n1', 'order_riley_aaaaa:n3']);
  });
});
