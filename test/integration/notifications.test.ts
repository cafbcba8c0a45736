// The notifications service on the real stack: at-least-once delivery stored once, the read model the
// workflow's notifications build, replay over SSE after a dropped connection, and the approval proxy.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { sseReader } from '../../services/notifications/test/sseReader.ts';
import {
  apps,
  call,
  finished,
  getOrder,
  placeOrder,
  pollUntil,
  readerCookie,
  timeline,
  tokensOf,
  url,
  waitForNotification,
  waitForOrder,
  waitingForApproval,
} from './client.ts';

interface Summary {
  orderId: string;
  customer?: string;
  state: string;
  reason?: string;
  deadline?: string;
  version: number;
}

const suffix = () => Array.from(randomBytes(5), (byte) => 'abcdefghijklmnopqrstuvwxyz0123456789'[byte % 36]).join('');

/** A notification as the workflow publishes it, for an order no workflow runs. */
function syntheticNotification(name: string) {
  const orderId = `order_${name}_${suffix()}`;
  return {
    id: `${orderId}:received`,
    orderId,
    time: new Date().toISOString(),
    kind: 'received',
    text: `Received order for ${name}: [milk]. Total = 1`,
    customer: name,
  };
}

/** Delivers `data` the way the sidecar does: a CloudEvent, POSTed to the subscription route with its token. */
async function deliver(
  data: unknown,
  cloudEventId = suffix(),
  token: string | undefined = tokensOf('notifications').appApiToken,
) {
  const response = await fetch(url('notifications', '/notifications'), {
    method: 'POST',
    headers: { 'content-type': 'application/cloudevents+json', ...(token ? { 'dapr-api-token': token } : {}) },
    body: JSON.stringify({
      id: cloudEventId,
      specversion: '1.0',
      source: 'orderprocessing',
      type: 'com.dapr.event.sent',
      datacontenttype: 'application/json',
      pubsubname: 'orders',
      topic: 'notifications',
      data,
    }),
  });
  return { status: response.status, body: (await response.json()) as { status: string } };
}

async function recentOrders(): Promise<Summary[]> {
  return (await call<{ orders: Summary[] }>('notifications', '/api/orders')).body.orders;
}

describe('redelivery', () => {
  it('the same message delivered twice shows once', async () => {
    const notification = syntheticNotification('redelivered');
    expect(await deliver(notification, 'ce-1')).toEqual({ status: 200, body: { status: 'SUCCESS' } });
    expect(await deliver(notification, 'ce-2')).toEqual({ status: 200, body: { status: 'SUCCESS' } });

    const timeline = await call<{ events: { id: string }[]; order: Summary }>(
      'notifications',
      `/api/orders/${notification.orderId}/timeline`,
    );
    expect(timeline.body.events.map((event) => event.id)).toEqual([notification.id]);
    expect(timeline.body.order).toMatchObject({ state: 'received', customer: 'redelivered', version: 1 });
    expect((await recentOrders()).filter((order) => order.orderId === notification.orderId)).toEqual([
      expect.objectContaining({ version: 1 }),
    ]);
  });

  it('two deliveries of one message at the same moment show once', async () => {
    const notification = syntheticNotification('twice');
    const answers = await Promise.all([deliver(notification), deliver(notification), deliver(notification)]);
    expect(answers.map((answer) => answer.body.status)).toEqual(['SUCCESS', 'SUCCESS', 'SUCCESS']);
    const timeline = await call<{ events: unknown[] }>('notifications', `/api/orders/${notification.orderId}/timeline`);
    expect(timeline.body.events).toHaveLength(1);
  });

  it('a message that is not a notification is dropped, not retried', async () => {
    expect(await deliver({ orderId: 'nope' })).toEqual({ status: 200, body: { status: 'DROP' } });
  });

  it('only the sidecar may deliver: a POST without its token gets 401 and stores nothing', async () => {
    const notification = syntheticNotification('forged');
    expect((await deliver(notification, 'ce-forged', '')).status).toBe(401);
    const timeline = await call<{ events: unknown[] }>('notifications', `/api/orders/${notification.orderId}/timeline`);
    expect(timeline.body.events).toEqual([]);
  });
});

describe('bulk delivery by the sidecar', () => {
  /** Publishes `data` to topic `notifications` as the workflow does: through orderprocessing's sidecar. */
  const publish = (data: unknown) =>
    fetch(`http://127.0.0.1:${apps().orderprocessing?.daprHttpPort}/v1.0/publish/orders/notifications`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'dapr-api-token': tokensOf('orderprocessing').daprApiToken },
      body: JSON.stringify(data),
    });

  it('delivers a burst in batches to POST /notifications/bulk: each notification once, a bad message among them dropped', async () => {
    const burst = Array.from({ length: 8 }, () => syntheticNotification('burst'));
    const published = await Promise.all([...burst, burst[0], { hello: 'world' }].map(publish));
    expect(published.map((answer) => answer.status)).toEqual(Array(10).fill(204));

    for (const notification of burst) {
      const events = await pollUntil(
        `${notification.id} was not stored`,
        () => timeline(notification.orderId),
        (events) => events.length > 0,
        10_000,
      );
      expect(events).toHaveLength(1);
    }
    // The sidecar used the bulk route (the app's request lines name it).
    const log = readFileSync(join(inject('logDir'), 'notifications.log'), 'utf8');
    expect(log).toContain('"url":"/notifications/bulk"');
  });
});

describe('the read model', () => {
  it('holds an order’s steps in order and its state, from the workflow’s own notifications', async () => {
    const id = await placeOrder({ customer: 'Noor', items: ['bread'], total: 4 });
    await waitForOrder(id, finished);
    const events = await waitForNotification(id, 'shipped');
    expect(events.map((event) => event.kind)).toEqual(['received', 'stock_reserved', 'paid', 'shipped']);
    const timeline = await call<{ order: Summary }>('notifications', `/api/orders/${id}/timeline`);
    expect(timeline.body.order).toMatchObject({ orderId: id, customer: 'Noor', state: 'shipped', version: 4 });
    expect((await recentOrders()).find((order) => order.orderId === id)).toMatchObject({ state: 'shipped' });
  });
});

describe('live updates', () => {
  it('a reconnection with Last-Event-ID gets what happened while it was away', async () => {
    const open = async (headers: Record<string, string> = {}) => {
      const controller = new AbortController();
      const response = await fetch(url('notifications', '/events'), {
        headers: { accept: 'text/event-stream', ...readerCookie(), ...headers },
        signal: controller.signal,
      });
      return { next: sseReader(response), close: () => controller.abort() };
    };
    const first = await open();
    const snapshot = await first.next();
    expect(snapshot.event).toBe('catchup');
    expect(snapshot.id).toMatch(/^\d+$/);
    first.close();

    const missed = syntheticNotification('whileaway');
    await deliver(missed);

    const second = await open({ 'last-event-id': snapshot.id ?? '' });
    try {
      const catchup = await second.next();
      expect(catchup.event).toBe('catchup');
      const data = catchup.data as { events: { id: string }[]; orders: Summary[] };
      expect(data.events.map((event) => event.id)).toContain(missed.id);
      expect(data.orders.map((order) => order.orderId)).toContain(missed.orderId);

      const live = syntheticNotification('live');
      await deliver(live);
      for (;;) {
        const next = await second.next();
        if ((next.data as { event?: { id: string } }).event?.id === live.id) break;
      }
    } finally {
      second.close();
    }
  });
});

describe('approving through the notifications service', () => {
  it('passes the decision and the approver’s token on to orderprocessing, and its answers back', async () => {
    const id = await placeOrder({ customer: 'Vera', items: ['iPhone'], total: 1100 });
    await waitForOrder(id, waitingForApproval);
    const pending = (await waitForNotification(id, 'waiting_for_approval')).at(-1);
    expect(pending?.text).toMatch(/Deadline = /);

    const approve = (orderId: string, as: 'chris' | 'stranger' = 'chris', body: object = { approved: true }) =>
      call('notifications', `/api/orders/${orderId}/approve`, { body, as });
    const nobody = await approve(id, 'stranger');
    expect(nobody.status).toBe(401);
    expect(nobody.body.message).toMatch(/Bearer/);
    const impostor = await approve(id, 'chris', { approver: 'dana', approved: true });
    expect(impostor.status).toBe(403);

    const answer = await approve(id);
    expect(answer.status).toBe(202);
    expect(answer.body.message).toMatch(/approval by chris sent/i);
    expect((await waitForOrder(id, finished)).order_result?.success).toBe(true);
    await waitForNotification(id, 'shipped');

    const late = await approve(id);
    expect(late.status).toBe(409);
    expect(late.body.message).toMatch(/nothing to approve/);
    const unknown = await approve('order_nobody_zzzzz');
    expect(unknown.status).toBe(404);
    expect(unknown.body.message).toMatch(/not found/);
    expect((await getOrder(id)).status).toBe('COMPLETED');
  });
});
