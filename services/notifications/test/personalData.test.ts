// Customers' names on the page: whole for a signed-in reader (an approver's or the admin token, as
// orderprocessing says), masked for anyone else, in the JSON API and the live stream alike.
import { afterEach, describe, expect, it } from 'vitest';
import { FakeState } from '../../shared/test/fakeState.ts';
import { buildApp, loadNotificationsConfig } from '../src/app.ts';
import { maskedMessage, maskOrderId } from '../src/personalData.ts';
import { note, ORDER } from './bulk.ts';
import { sseReader } from './sseReader.ts';

const READER_TOKEN = 'chris-approver-token-0123456789';
const config = loadNotificationsConfig({ APP_PORT: '3001', LOG_LEVEL: 'silent', LIVE_FOLLOW_INTERVAL: '0s' });

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const close of cleanup.splice(0).reverse()) await close();
});

/** The app with orderprocessing's answer to "may this token read?" faked: only READER_TOKEN may. */
async function setup() {
  const checked: string[] = [];
  const app = buildApp({
    config,
    store: new FakeState(),
    orders: {
      approve: async () => ({ message: 'sent' }),
      canRead: async (authorization) => {
        checked.push(authorization);
        return authorization === `Bearer ${READER_TOKEN}`;
      },
    },
  });
  cleanup.push(() => app.close());
  const deliver = (data: unknown, id: string) =>
    app.inject({
      method: 'POST',
      url: '/notifications',
      headers: { 'content-type': 'application/cloudevents+json' },
      payload: JSON.stringify({ id, specversion: '1.0', type: 'com.dapr.event.sent', source: 'op', data }),
    });
  await deliver(note('received', ORDER, 1), 'ce-1');
  const refused = `charge refused for ${ORDER}`;
  await deliver({ ...note('payment_failed', ORDER, 2), text: refused, failedStep: 'payment', reason: refused }, 'ce-2');
  return { app, checked, deliver };
}

async function signIn(app: Awaited<ReturnType<typeof setup>>['app']) {
  const answer = await app.inject({
    method: 'POST',
    url: '/api/session',
    headers: { authorization: `Bearer ${READER_TOKEN}` },
  });
  expect(answer.statusCode).toBe(204);
  const cookie = String(answer.headers['set-cookie']);
  expect(cookie).toMatch(/^reader=[^;]+; Path=\/; HttpOnly; SameSite=Strict; Max-Age=43200$/);
  return cookie.split(';')[0] as string;
}

describe('the JSON API', () => {
  it("shows anyone the customer's first letter, and ids, events and texts without the name", async () => {
    const { app } = await setup();
    const { orders } = (await app.inject('/api/orders')).json();
    expect(orders).toEqual([expect.objectContaining({ orderId: 'order_r…_aaaaa', customer: 'R…' })]);
    const timeline = (await app.inject(`/api/orders/${ORDER}/timeline`)).json();
    expect(timeline.orderId).toBe('order_r…_aaaaa');
    expect(timeline.events.map((event: { id: string; text: string }) => [event.id, event.text])).toEqual([
      ['order_r…_aaaaa:received', 'Received order for R…: [milk]. Total = 2'],
      ['order_r…_aaaaa:payment_failed', 'charge refused for order_r…_aaaaa'],
    ]);
    expect(JSON.stringify(timeline)).not.toMatch(/riley/i);
  });

  it('shows a signed-in reader everything; a token that may not read gets 401 and no cookie', async () => {
    const { app, checked } = await setup();
    const cookie = await signIn(app);
    const { orders } = (await app.inject({ url: '/api/orders', headers: { cookie } })).json();
    expect(orders).toEqual([expect.objectContaining({ orderId: ORDER, customer: 'Riley' })]);
    const timeline = (await app.inject({ url: `/api/orders/${ORDER}/timeline`, headers: { cookie } })).json();
    expect(timeline.events[0].text).toBe('Received order for Riley: [milk]. Total = 2');
    expect(checked).toHaveLength(1); // orderprocessing was asked once, then the answer kept for a while

    const refused = await app.inject({
      method: 'POST',
      url: '/api/session',
      headers: { authorization: 'Bearer not-a-readers-token-000' },
    });
    expect(refused.statusCode).toBe(401);
    expect(refused.headers['set-cookie']).toBeUndefined();
    const forged = (
      await app.inject({ url: '/api/orders', headers: { cookie: 'reader=not-a-readers-token-000' } })
    ).json();
    expect(forged.orders[0].customer).toBe('R…');

    const out = await app.inject({ method: 'DELETE', url: '/api/session', headers: { cookie } });
    expect(String(out.headers['set-cookie'])).toMatch(/^reader=; .*Max-Age=0/);
  });
});

describe('the live stream', () => {
  it('masks the snapshot and each notification for anyone; a reader gets them whole', async () => {
    const { app, deliver } = await setup();
    const cookie = await signIn(app);
    const base = await app.listen({ port: 0, host: '127.0.0.1' });
    const open = (headers: Record<string, string>) => {
      const controller = new AbortController();
      cleanup.push(async () => controller.abort());
      return fetch(`${base}/events`, {
        headers: { accept: 'text/event-stream', ...headers },
        signal: controller.signal,
      }).then((response) => sseReader(response));
    };
    const [anyone, reader] = [await open({}), await open({ cookie })];

    const [masked, whole] = [(await anyone()).data, (await reader()).data] as { masked?: boolean; orders: object[] }[];
    expect(masked).toMatchObject({ masked: true, orders: [{ orderId: 'order_r…_aaaaa', customer: 'R…' }] });
    expect(JSON.stringify(masked)).not.toMatch(/riley/i);
    expect(whole?.masked).toBeUndefined();
    expect(whole?.orders).toEqual([expect.objectContaining({ orderId: ORDER, customer: 'Riley' })]);

    await deliver(note('stock_reserved', ORDER, 3), 'ce-3');
    expect((await anyone()).data).toMatchObject({ event: { orderId: 'order_r…_aaaaa' }, order: { customer: 'R…' } });
    expect((await reader()).data).toMatchObject({ event: { orderId: ORDER }, order: { customer: 'Riley' } });
  });
});

describe('masking', () => {
  it('replaces the name where it stands as a word only, and keeps one masked object per message', () => {
    const order = {
      orderId: 'order_a_bbbbb',
      customer: 'A',
      state: 'received',
      createdAt: '',
      updatedAt: 1,
      version: 1,
    };
    const event = { ...note('received', 'order_a_bbbbb', 1), text: 'Received order for A: [apples]. Total = 1', at: 1 };
    const message = { event, order } as Parameters<typeof maskedMessage>[0];
    expect(maskedMessage(message).event.text).toBe('Received order for A…: [apples]. Total = 1');
    expect(maskedMessage(message)).toBe(maskedMessage(message));
    expect(maskOrderId('order_customer_x7k2p')).toBe('order_c…_x7k2p');
  });
});
