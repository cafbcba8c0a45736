import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { DaprError } from '#shared/dapr.ts';
import type { Notification } from '#shared/messages.ts';
import { FakeState, touches } from '../../shared/test/fakeState.ts';
import { buildApp, loadNotificationsConfig } from '../src/app.ts';
import { INDEX_KEY } from '../src/readModel.ts';
import type { OrdersApi } from '../src/routes.ts';
import { note, ORDER } from './bulk.ts';
import { everyoneReads } from './everyoneReads.ts';
import { sseReader } from './sseReader.ts';

const config = loadNotificationsConfig({ APP_PORT: '3001', LOG_LEVEL: 'silent' });

/** The way Dapr delivers a message: a CloudEvent with the notification as `data`. */
const cloudEvent = (data: unknown, id = 'ce-1') => ({
  method: 'POST' as const,
  url: '/notifications',
  headers: { 'content-type': 'application/cloudevents+json' },
  payload: JSON.stringify({ id, specversion: '1.0', type: 'com.dapr.event.sent', source: 'orderprocessing', data }),
});

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const close of cleanup.splice(0).reverse()) await close();
});

function setup(orders?: OrdersApi) {
  const store = new FakeState();
  const app = buildApp({ config, store, readers: everyoneReads, ...(orders ? { orders } : {}) });
  cleanup.push(() => app.close());
  return { app, store };
}

describe('POST /notifications (the subscription)', () => {
  it('stores a message delivered twice once', async () => {
    const { app } = setup();
    for (const id of ['ce-1', 'ce-2']) {
      const answer = await app.inject(cloudEvent(note('received'), id));
      expect(answer.statusCode).toBe(200);
      expect(answer.json()).toEqual({ status: 'SUCCESS' });
    }
    const timeline = (await app.inject(`/api/orders/${ORDER}/timeline`)).json();
    expect(timeline.events.map((event: Notification) => event.id)).toEqual([`${ORDER}:received`]);
    expect(timeline.order).toMatchObject({ orderId: ORDER, customer: 'Riley', state: 'received', version: 1 });
  });

  it('drops what is not a notification, and asks for a redelivery when the store fails', async () => {
    const { app, store } = setup();
    const dropped = await app.inject(cloudEvent({ hello: 'world' }));
    expect(dropped.json()).toEqual({ status: 'DROP' });

    // The store fails for the batch's save and for the notification's own try after it.
    for (let n = 0; n < 2; n++)
      store.failOnSave(1, touches('timeline:*'), new DaprError('save state: redis down', 500, undefined));
    const failed = await app.inject(cloudEvent(note('received')));
    expect(failed.statusCode).toBe(500);
    expect(failed.json()).toEqual({ status: 'RETRY' });

    expect((await app.inject(cloudEvent(note('received')))).json()).toEqual({ status: 'SUCCESS' });
    expect((await app.inject(`/api/orders/${ORDER}/timeline`)).json().events).toHaveLength(1);
  });

  it('answers 400 for a body that is not JSON', async () => {
    const { app } = setup();
    const answer = await app.inject({ ...cloudEvent(null), payload: '{nope' });
    expect(answer.statusCode).toBe(400);
  });
});

describe('the JSON API', () => {
  it('lists recent orders with their state, and an empty timeline for an unknown order', async () => {
    const { app, store } = setup();
    await app.inject(cloudEvent(note('received', ORDER, 1)));
    await app.inject(cloudEvent(note('out_of_stock', ORDER, 2)));
    const { orders } = (await app.inject('/api/orders')).json();
    expect(orders).toEqual([
      expect.objectContaining({ orderId: ORDER, state: 'cancelled', reason: 'out of stock', customer: 'Riley' }),
    ]);
    expect(store.peek(INDEX_KEY)).toBeDefined();

    const unknown = await app.inject('/api/orders/order_nobody_zzzzz/timeline');
    expect(unknown.statusCode).toBe(200);
    expect(unknown.json()).toEqual({ orderId: 'order_nobody_zzzzz', order: null, events: [] });
    expect((await app.inject('/api/orders/not-an-order/timeline')).statusCode).toBe(422);
  });
});

describe('POST /api/orders/:id/approve (passed on to orderprocessing)', () => {
  it('answers 202, or the upstream 4xx with its message, or 502 when orderprocessing cannot be reached', async () => {
    const calls: unknown[] = [];
    let outcome: () => Promise<{ message?: string }> = async () => ({ message: 'approval by Chris sent' });
    const { app } = setup({
      approve: (orderId, decision, authorization) => {
        calls.push({ orderId, decision, authorization });
        return outcome();
      },
      canRead: async () => false,
    });
    const approve = (body: unknown) =>
      app.inject({
        method: 'POST',
        url: `/api/orders/${ORDER}/approve`,
        payload: body as object,
        headers: { authorization: 'Bearer chris-token' },
      });

    const ok = await approve({ approver: ' Chris ', approved: true });
    expect(ok.statusCode).toBe(202);
    expect(ok.json()).toEqual({ message: 'approval by Chris sent' });
    expect(calls).toEqual([
      { orderId: ORDER, decision: { approver: 'Chris', approved: true }, authorization: 'Bearer chris-token' },
    ]);
    expect((await approve({ approved: true })).statusCode).toBe(202); // the token names the approver

    outcome = async () => {
      throw new DaprError('orderprocessing: nothing to approve', 409, { message: `order ${ORDER} is COMPLETED` });
    };
    const late = await approve({ approver: 'Chris', approved: false });
    expect(late.statusCode).toBe(409);
    expect(late.json().message).toBe(`order ${ORDER} is COMPLETED`);

    outcome = async () => {
      throw new TypeError('fetch failed');
    };
    const down = await approve({ approver: 'Chris', approved: true });
    expect(down.statusCode).toBe(502);

    outcome = async () => {
      throw new DaprError('orderprocessing approve: HTTP 401', 401, { message: 'unknown approver token' });
    };
    const unknown = await approve({ approved: true });
    expect(unknown.statusCode).toBe(401);
    expect(unknown.json().message).toBe('unknown approver token');

    const bad = await approve({ approver: '', approved: 'yes' });
    expect(bad.statusCode).toBe(422);
    expect(calls).toHaveLength(5);
  });

  it('limits each client of the page: its decisions, and its refused tokens (orderprocessing takes them unlimited)', async () => {
    const limited = loadNotificationsConfig({
      APP_PORT: '3001',
      LOG_LEVEL: 'silent',
      TRUST_PROXY: '127.0.0.1',
      RATE_LIMIT_DECISIONS_PER_MINUTE: '3',
      RATE_LIMIT_AUTH_FAILURES_PER_MINUTE: '2',
    });
    let refuse = false;
    const app = buildApp({
      config: limited,
      store: new FakeState(),
      orders: {
        approve: async () => {
          if (refuse)
            throw new DaprError('orderprocessing approve: HTTP 401', 401, { message: 'unknown approver token' });
          return { message: 'sent' };
        },
        canRead: async () => false,
      },
    });
    cleanup.push(() => app.close());
    const approve = (client: string) =>
      app
        .inject({
          method: 'POST',
          url: `/api/orders/${ORDER}/approve`,
          payload: { approved: true },
          headers: { authorization: 'Bearer some-token', 'x-forwarded-for': client },
        })
        .then((answer) => answer.statusCode);

    const decisions = [];
    for (let n = 0; n < 4; n++) decisions.push(await approve('198.51.100.1'));
    expect(decisions).toEqual([202, 202, 202, 429]);

    refuse = true;
    const refused = [];
    for (let n = 0; n < 3; n++) refused.push(await approve('198.51.100.2'));
    expect(refused).toEqual([401, 401, 429]);
    refuse = false;
    expect(await approve('198.51.100.3')).toBe(202); // another client of the page is not held up
  });

  it('reaches orderprocessing through the sidecar’s service invocation', async () => {
    const seen: Record<string, unknown>[] = [];
    const sidecar: Server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk) => {
        body += chunk;
      });
      request.on('end', () => {
        seen.push({
          url: request.url,
          body,
          authorization: request.headers.authorization,
          daprApiToken: request.headers['dapr-api-token'],
        });
        response.writeHead(404, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ statusCode: 404, message: 'order order_riley_aaaaa not found' }));
      });
    });
    await new Promise<void>((resolve) => sidecar.listen(0, '127.0.0.1', resolve));
    cleanup.push(() => new Promise((resolve) => sidecar.close(resolve)));
    const port = (sidecar.address() as AddressInfo).port;
    const app = buildApp({
      config: loadNotificationsConfig({
        APP_PORT: '3001',
        LOG_LEVEL: 'silent',
        DAPR_HTTP_PORT: String(port),
        DAPR_API_TOKEN: 'sidecar-token',
      }),
      store: new FakeState(),
    });
    cleanup.push(() => app.close());

    const answer = await app.inject({
      method: 'POST',
      url: `/api/orders/${ORDER}/approve`,
      payload: { approver: 'Chris', approved: true },
      headers: { authorization: 'Bearer chris-token' },
    });
    expect(answer.statusCode).toBe(404);
    expect(answer.json().message).toBe('order order_riley_aaaaa not found');
    expect(seen).toEqual([
      {
        url: `/v1.0/invoke/orderprocessing/method/orders/${ORDER}/approve`,
        body: JSON.stringify({ approver: 'Chris', approved: true }),
        authorization: 'Bearer chris-token',
        daprApiToken: 'sidecar-token',
      },
    ]);
  });
});

describe('the page', () => {
  it('is three static files with no inline script, style or event handler', async () => {
    const { app } = setup();
    const page = await app.inject('/');
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    const scripts = [...page.body.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts.map(([, attributes, body]) => [/\bsrc="\/app\.js"/.test(attributes ?? ''), body])).toEqual([
      [true, ''],
    ]);
    expect(page.body).not.toMatch(/<style|\son[a-z]+=|style="/i);
    expect((await app.inject('/app.js')).headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect((await app.inject('/style.css')).headers['content-type']).toBe('text/css; charset=utf-8');
  });

  it('is revalidated on every load, under a CSP that allows no inline script; the favicon is 204', async () => {
    const { app } = setup();
    for (const path of ['/', '/app.js', '/style.css']) {
      const answer = await app.inject(path);
      expect(answer.statusCode, path).toBe(200);
      expect(answer.headers['cache-control'], path).toBe('no-cache');
      expect(answer.headers['content-security-policy'], path).toMatch(/script-src 'self'/);
      expect(answer.headers['content-security-policy'], path).not.toMatch(/script-src[^;]*unsafe-inline/);
      const etag = String(answer.headers.etag);
      expect((await app.inject({ url: path, headers: { 'if-none-match': etag } })).statusCode, path).toBe(304);
    }
    expect((await app.inject('/favicon.ico')).statusCode).toBe(204);
    expect((await app.inject('/../package.json')).statusCode).toBe(404);
  });

  it('sets every text with textContent, never as markup', async () => {
    const { app } = setup();
    const script = (await app.inject('/app.js')).body;
    expect(script).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(|new Function/);
  });
});

describe('GET /events (live)', () => {
  it('sends a snapshot, then each new notification; a reconnection gets what it missed', async () => {
    const { app } = setup();
    await app.inject(cloudEvent(note('received', ORDER, 1)));
    const base = await app.listen({ port: 0, host: '127.0.0.1' });
    const open = (headers: Record<string, string> = {}) => {
      const controller = new AbortController();
      cleanup.push(async () => controller.abort());
      return fetch(`${base}/events`, {
        headers: { accept: 'text/event-stream', ...headers },
        signal: controller.signal,
      }).then((response) => ({ response, next: sseReader(response), close: () => controller.abort() }));
    };

    const first = await open();
    expect(first.response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const snapshot = await first.next();
    expect(snapshot.event).toBe('catchup');
    expect(snapshot.data).toMatchObject({ full: true, events: [{ id: `${ORDER}:received` }] });

    await app.inject(cloudEvent(note('stock_reserved', ORDER, 2)));
    await app.inject(cloudEvent(note('stock_reserved', ORDER, 2), 'ce-redelivered'));
    const live = await first.next();
    expect(live.event).toBe('notification');
    expect(live.data).toMatchObject({
      event: { id: `${ORDER}:stock_reserved` },
      order: { orderId: ORDER, state: 'received', version: 2 },
    });
    expect(live.id).toBe(String((live.data as { event: { at: number } }).event.at));
    first.close();

    await app.inject(cloudEvent(note('paid', ORDER, 3)));
    const second = await open({ 'last-event-id': live.id ?? '' });
    const missed = await second.next();
    expect(missed.event).toBe('catchup');
    const catchup = missed.data as { full: boolean; events: { id: string }[]; orders: { state: string }[] };
    expect(catchup.full).toBe(false);
    expect(catchup.events.map((event) => event.id)).toContain(`${ORDER}:paid`);
    expect(catchup.orders).toEqual([expect.objectContaining({ state: 'paid' })]);
  });

  it('refuses a connection with 503 while the store cannot be read (the page then tries again)', async () => {
    const store = new FakeState();
    store.getState = async () => {
      throw new DaprError('get state: redis down', 500, undefined);
    };
    const app = buildApp({ config, store });
    cleanup.push(() => app.close());
    const answer = await app.inject({ url: '/events', headers: { accept: 'text/event-stream' } });
    expect(answer.statusCode).toBe(503);
  });
});
