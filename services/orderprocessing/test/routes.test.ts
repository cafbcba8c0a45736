import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DaprError } from '#shared/dapr.ts';
import { OrderId } from '#shared/messages.ts';
import { buildApp, loadOrderConfig } from '../src/app.ts';

const DANA_TOKEN = 'dana-token-0123456789abcdef';
const CHRIS_TOKEN = 'chris-token-0123456789abcdef';
const ADMIN_TOKEN = 'admin-token-0123456789abcdef';

import { FakeState } from '../../shared/test/fakeState.ts';
import type { OrderView } from '../src/schemas.ts';
import { FakeEngine } from './fakeEngine.ts';
import { FakeProjection } from './fakeProjection.ts';

const ORDER = { customer: 'Riley', items: ['milk', 'bread'], total: 12.5 };
const ORDER_ID = /^order_riley_[a-z0-9]{5}$/;

let orders: FakeEngine;
let projection: FakeProjection;
let app: ReturnType<typeof buildApp>;

beforeEach(async () => {
  orders = new FakeEngine();
  projection = new FakeProjection();
  app = buildApp({
    config: loadOrderConfig({
      APP_PORT: '3000',
      LOG_LEVEL: 'silent',
      APPROVER_TOKENS: `Dana:${DANA_TOKEN},chris:${CHRIS_TOKEN}`,
      ADMIN_TOKEN,
    }),
    engine: orders,
    store: new FakeState(),
    projection,
  });
  await app.ready();
});

afterEach(async () => {
  await app.close();
});

const post = (payload: unknown, headers: Record<string, string> = {}) =>
  app.inject({ method: 'POST', url: '/orders', payload: payload as object, headers });

const postRaw = (body: string) =>
  app.inject({ method: 'POST', url: '/orders', payload: body, headers: { 'content-type': 'application/json' } });

describe('POST /orders', () => {
  it('accepts a valid order with 202, a Location and the order id', async () => {
    const response = await post(ORDER);

    expect(response.statusCode).toBe(202);
    const body = response.json<{ id: string; status_url: string }>();
    expect(body.id).toMatch(ORDER_ID);
    expect(OrderId.safeParse(body.id).success).toBe(true);
    expect(response.headers.location).toBe(`http://localhost:3000/orders/${body.id}`);
    expect(body.status_url).toBe(`http://localhost:3000/orders/${body.id}`);
    expect(orders.placed).toHaveLength(1);
    expect(orders.placed[0]).toMatchObject({ orderId: body.id, order: ORDER });
    expect(orders.placed[0]?.requestHash).toBeUndefined();
    expect(orders.placed[0]?.retry.maxAttempts).toBeGreaterThanOrEqual(1);
    expect(orders.placed[0]?.approvalTimeoutMs).toBe(86_400_000);
  });

  it('places two orders without a key as two orders', async () => {
    const a = (await post(ORDER)).json<{ id: string }>();
    const b = (await post(ORDER)).json<{ id: string }>();
    expect(a.id).not.toBe(b.id);
    expect(orders.placed).toHaveLength(2);
  });

  it('places an order once for the same Idempotency-Key', async () => {
    const headers = { 'idempotency-key': 'checkout-42' };
    const first = await post(ORDER, headers);
    const second = await post(ORDER, headers);

    expect(first.statusCode).toBe(202);
    expect(second.statusCode).toBe(202);
    expect(second.json().id).toBe(first.json().id);
    expect(second.headers.location).toBe(first.headers.location);
    expect(first.json().id).toMatch(ORDER_ID);
    expect(orders.placed).toHaveLength(1);
  });

  it('places an order once for two requests with one key at the same time', async () => {
    const headers = { 'idempotency-key': 'double-click' };
    const [a, b] = await Promise.all([post(ORDER, headers), post(ORDER, headers)]);
    expect([a.statusCode, b.statusCode]).toEqual([202, 202]);
    expect(a.json().id).toBe(b.json().id);
    expect(orders.placed).toHaveLength(1);
  });

  it('takes the same order with its keys in another order as the same request', async () => {
    const headers = { 'idempotency-key': 'reordered' };
    const first = await post(ORDER, headers);
    const second = await post({ total: ORDER.total, items: ORDER.items, customer: ORDER.customer }, headers);
    expect(second.statusCode).toBe(202);
    expect(second.json().id).toBe(first.json().id);
    expect(orders.placed).toHaveLength(1);
  });

  it('answers 503 naming the order when the engine went away while starting it; a keyed retry is the same order', async () => {
    orders.loseNextStartAnswer = true;
    const lost = await post(ORDER, { 'idempotency-key': 'k-lost' });

    expect(lost.statusCode).toBe(503);
    const [id] = [...orders.orders.keys()];
    expect(lost.json().message).toContain(`GET /orders/${id}`);
    expect(lost.json().message).toMatch(/Idempotency-Key/);
    const retry = await post(ORDER, { 'idempotency-key': 'k-lost' });
    expect(retry.statusCode).toBe(202);
    expect(retry.json().id).toBe(id);
    expect(orders.placed).toHaveLength(1);
  });

  it('refuses the same Idempotency-Key with a different order (422)', async () => {
    const headers = { 'idempotency-key': 'checkout-43' };
    expect((await post(ORDER, headers)).statusCode).toBe(202);

    const response = await post({ ...ORDER, total: 99 }, headers);

    expect(response.statusCode).toBe(422);
    expect(response.json().message).toMatch(/Idempotency-Key/);
    expect(orders.placed).toHaveLength(1);
    expect(orders.placed[0]?.order.total).toBe(12.5);
  });

  it.each([
    ['a missing customer', { items: ['milk'], total: 5 }, /body\.customer/],
    ['a customer of 65 characters', { ...ORDER, customer: 'r'.repeat(65) }, /body\.customer/],
    ['a blank customer', { ...ORDER, customer: '   ' }, /body\.customer/],
    ['no items', { ...ORDER, items: [] }, /body\.items/],
    ['an unknown item', { ...ORDER, items: ['milk', 'caviar'] }, /body\.items\.1/],
    ['51 items', { ...ORDER, items: Array(51).fill('milk') }, /body\.items/],
    ['items that are not a list', { ...ORDER, items: 'milk' }, /body\.items/],
    ['a total of 0', { ...ORDER, total: 0 }, /body\.total/],
    ['a total of -5', { ...ORDER, total: -5 }, /body\.total/],
    ['a total of 1000001', { ...ORDER, total: 1_000_001 }, /body\.total/],
    ['a total of 12.345', { ...ORDER, total: 12.345 }, /body\.total: at most 2 decimals/],
    ['a total given as a string', { ...ORDER, total: '12' }, /body\.total/],
    ['a missing total', { customer: 'Riley', items: ['milk'] }, /body\.total/],
    ['an extra key', { ...ORDER, discount: 5 }, /Unrecognized key: "discount"/],
    ['an array instead of an object', [ORDER], /body: .*expected object/],
  ])('refuses %s with a 4xx naming the field', async (_case, payload, field) => {
    const response = await post(payload);

    expect(response.statusCode).toBeGreaterThanOrEqual(400);
    expect(response.statusCode).toBeLessThan(500);
    expect(response.json().message).toMatch(field);
    expect(orders.placed).toHaveLength(0);
  });

  it('answers malformed JSON with 400', async () => {
    const response = await postRaw('{"customer":');
    expect(response.statusCode).toBe(400);
    expect(response.json().message).toBeTruthy();
    expect(orders.placed).toHaveLength(0);
  });

  it('answers a body over 64 KiB with 413', async () => {
    const response = await post({ ...ORDER, customer: 'x'.repeat(70 * 1024) });
    expect(response.statusCode).toBe(413);
    expect(orders.placed).toHaveLength(0);
  });

  it('answers a body that is not JSON with a 4xx', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/orders',
      payload: 'customer=Riley',
      headers: { 'content-type': 'text/plain' },
    });
    expect(response.statusCode).toBeGreaterThanOrEqual(400);
    expect(response.statusCode).toBeLessThan(500);
  });

  it.each([
    ['a right-to-left override', 'Riley\u202Egnp.exe'],
    ['an isolate', '\u2066Riley\u2069'],
    ['a NUL', 'Ri\u0000ley'],
    ['a line break', 'Riley\nINFO forged log line'],
    ['an escape sequence', '\u001b[31mRiley'],
    ['a zero-width space', 'Ri\u200Bley'],
  ])('refuses a customer name with %s (422), placing nothing', async (_what, customer) => {
    const response = await post({ ...ORDER, customer });
    expect(response.statusCode).toBe(422);
    expect(response.json().message).toMatch(/^body\.customer: .*printable/);
    expect(orders.placed).toHaveLength(0);
  });

  it.each(['José Ünal', '李雷', "O'Brien-Smith & Co.", 'Zoë (VIP) #2'])('takes the name %s', async (customer) => {
    expect((await post({ ...ORDER, customer })).statusCode).toBe(202);
  });

  it('refuses an empty Idempotency-Key', async () => {
    const response = await post(ORDER, { 'idempotency-key': '   ' });
    expect(response.statusCode).toBe(422);
    expect(response.json().message).toMatch(/headers\.idempotency-key/);
  });

  it('does not let a __proto__ key pollute Object.prototype', async () => {
    const response = await postRaw(
      '{"customer":"Riley","items":["milk"],"total":5,"__proto__":{"polluted":"yes","total":1}}',
    );

    expect(response.statusCode).toBeLessThan(500);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('polluted');
    if (response.statusCode === 202) {
      expect(orders.placed[0]?.order).toEqual({ customer: 'Riley', items: ['milk'], total: 5 });
      expect(Object.getPrototypeOf(orders.placed[0]?.order)).toBe(Object.prototype);
    }
  });
});

describe('GET /orders/:id', () => {
  it('answers an unknown id with 404 and a message', async () => {
    const response = await app.inject({ method: 'GET', url: '/orders/order_nobody_zzzzz' });
    expect(response.statusCode).toBe(404);
    expect(response.json().message).toBe('order order_nobody_zzzzz not found');
  });

  it('shows a placed order: the name whole to the shop (an approver, the admin), its first letter to anyone else', async () => {
    const { id } = (await post(ORDER)).json<{ id: string }>();
    const read = (token?: string) =>
      app.inject({ method: 'GET', url: `/orders/${id}`, headers: token ? { authorization: `Bearer ${token}` } : {} });
    const anyone = await read();
    expect(anyone.statusCode).toBe(200);
    expect(anyone.json()).toMatchObject({ id, status: 'RUNNING', details: { ...ORDER, customer: 'R…' } });
    expect((await read(CHRIS_TOKEN)).json().details).toEqual(ORDER);
    expect((await read(ADMIN_TOKEN)).json().details).toEqual(ORDER);
    expect((await read('not-a-token-of-anyone-at-all')).statusCode).toBe(401);
  });

  it("shows a failure's stack trace, with its server paths, to the admin only", async () => {
    const { id } = (await post(ORDER)).json<{ id: string }>();
    const failure = { error_type: 'Error', message: 'payment failed', stack_trace: 'at /srv/app/dist/x.js:1:2' };
    orders.update(id, { status: 'FAILED', failure_details: failure });
    const read = (token?: string) =>
      app
        .inject({ method: 'GET', url: `/orders/${id}`, headers: token ? { authorization: `Bearer ${token}` } : {} })
        .then((answer) => answer.json().failure_details);
    const { stack_trace, ...withoutTrace } = failure;
    expect(await read()).toEqual(withoutTrace);
    expect(await read(CHRIS_TOKEN)).toEqual(withoutTrace);
    expect(await read(ADMIN_TOKEN)).toEqual(failure);
  });

  it('refuses an id over 200 characters with a 4xx', async () => {
    const response = await app.inject({ method: 'GET', url: `/orders/${'a'.repeat(201)}` });
    expect(response.statusCode).toBeGreaterThanOrEqual(400);
    expect(response.statusCode).toBeLessThan(500);
  });
});

describe('GET /me (the page asks it whose a token is)', () => {
  it('names the role of an approver or the admin, and answers 401 without a token or with another', async () => {
    const me = (token?: string) =>
      app.inject({ url: '/me', headers: token ? { authorization: `Bearer ${token}` } : {} });
    expect((await me(CHRIS_TOKEN)).json()).toEqual({ role: 'approver' });
    expect((await me(ADMIN_TOKEN)).json()).toEqual({ role: 'admin' });
    expect((await me()).statusCode).toBe(401);
    expect((await me('not-a-token-of-anyone-at-all')).statusCode).toBe(401);
  });
});

describe('POST /orders/:id/approve', () => {
  const approve = (
    id: string,
    payload: unknown = { approver: 'Dana', approved: true },
    token: string | null = DANA_TOKEN,
  ) =>
    app.inject({
      method: 'POST',
      url: `/orders/${id}/approve`,
      payload: payload as object,
      headers: token === null ? {} : { authorization: `Bearer ${token}` },
    });

  it('needs an approver token: none or an unknown one is 401, and nothing is raised', async () => {
    const id = await placed({ status: 'RUNNING', stage: 'waiting_for_approval' });
    const missing = await approve(id, { approved: true }, null);
    expect(missing.statusCode).toBe(401);
    expect(missing.json().message).toMatch(/Bearer/);
    const unknown = await approve(id, { approved: true }, 'not-a-token-of-anyone-at-all');
    expect(unknown.statusCode).toBe(401);
    expect(orders.approvals).toHaveLength(0);
  });

  it('refuses a body approver that is not the token holder (403)', async () => {
    const id = await placed({ status: 'RUNNING', stage: 'waiting_for_approval' });
    const response = await approve(id, { approver: 'Dana', approved: true }, CHRIS_TOKEN);
    expect(response.statusCode).toBe(403);
    expect(orders.approvals).toHaveLength(0);
  });

  it('records the name bound to the token, whatever the body leaves out', async () => {
    const id = await placed({ status: 'RUNNING', stage: 'waiting_for_approval' });
    const response = await approve(id, { approved: true }, CHRIS_TOKEN);
    expect(response.statusCode).toBe(202);
    expect(orders.approvals).toEqual([{ id, decision: { approver: 'chris', approved: true } }]);
  });

  async function placed(view: Partial<OrderView>): Promise<string> {
    const { id } = (await post({ ...ORDER, total: 1500 })).json<{ id: string }>();
    orders.update(id, view);
    return id;
  }

  it('answers an unknown order with 404', async () => {
    const response = await approve('order_nobody_zzzzz');
    expect(response.statusCode).toBe(404);
    expect(response.json().message).toMatch(/order_nobody_zzzzz not found/);
    expect(orders.approvals).toHaveLength(0);
  });

  it('answers a finished order with 409', async () => {
    const id = await placed({ status: 'COMPLETED' });
    const response = await approve(id);
    expect(response.statusCode).toBe(409);
    expect(response.json().message).toMatch(/COMPLETED/);
    expect(orders.approvals).toHaveLength(0);
  });

  it('keeps a decision for a big order that does not wait yet, and hands it over (202)', async () => {
    const id = await placed({ status: 'RUNNING' });
    const response = await approve(id);
    expect(response.statusCode).toBe(202);
    expect(response.json().message).toMatch(/kept for order .*: it applies as soon as the order waits for approval/);
    expect(orders.approvals).toEqual([{ id, decision: { approver: 'Dana', approved: true } }]);
  });

  it('answers an order under $1000 with 409: it never waits for approval', async () => {
    const { id } = (await post(ORDER)).json<{ id: string }>();
    const response = await approve(id);
    expect(response.statusCode).toBe(409);
    expect(response.json().message).toMatch(/never waits for approval/);
    expect(orders.approvals).toHaveLength(0);
  });

  it('lets the first decision count: a different one gets 409, the same one again is sent again', async () => {
    const id = await placed({ status: 'RUNNING' });
    expect((await approve(id, { approved: true }, DANA_TOKEN)).statusCode).toBe(202);

    const rejection = await approve(id, { approved: false }, CHRIS_TOKEN);
    expect(rejection.statusCode).toBe(409);
    expect(rejection.json().message).toMatch(/already approved by Dana: the first decision counts/);
    const byOther = await approve(id, { approved: true }, CHRIS_TOKEN);
    expect(byOther.statusCode).toBe(409);
    expect((await approve(id, { approved: true }, DANA_TOKEN)).statusCode).toBe(202);

    const all = orders.approvals.map((sent) => sent.decision);
    expect(all).toEqual([
      { approver: 'Dana', approved: true },
      { approver: 'Dana', approved: true },
    ]);
  });

  it('hands the decision to an order waiting for approval (202)', async () => {
    const id = await placed({ status: 'RUNNING', stage: 'waiting_for_approval' });

    const response = await approve(id, { approver: 'Dana', approved: false });

    expect(response.statusCode).toBe(202);
    expect(response.json().message).toMatch(/rejection by Dana/);
    expect(orders.approvals).toEqual([{ id, decision: { approver: 'Dana', approved: false } }]);
  });

  it.each([
    ['a missing approved', { approver: 'Dana' }, /body\.approved/],
    ['approved as a string', { approver: 'Dana', approved: 'yes' }, /body\.approved/],
    ['a blank approver', { approver: '  ', approved: true }, /body\.approver/],
    ['an extra key', { approver: 'Dana', approved: true, note: 'ok' }, /Unrecognized key: "note"/],
  ])('refuses %s with a 4xx naming the field', async (_case, payload, field) => {
    const id = await placed({ status: 'RUNNING', stage: 'waiting_for_approval' });

    const response = await approve(id, payload);

    expect(response.statusCode).toBeGreaterThanOrEqual(400);
    expect(response.statusCode).toBeLessThan(500);
    expect(response.json().message).toMatch(field);
    expect(orders.approvals).toHaveLength(0);
  });
});

describe('POST /orders/:id/cancel', () => {
  const cancel = (id: string, token: string | null = CHRIS_TOKEN) =>
    app.inject({
      method: 'POST',
      url: `/orders/${id}/cancel`,
      headers: token === null ? {} : { authorization: `Bearer ${token}` },
    });
  const placed = async (view: Partial<OrderView>) => {
    const { id } = (await post({ ...ORDER, total: 1500 })).json<{ id: string }>();
    orders.update(id, view);
    return id;
  };

  it('sends the cancel event to an order waiting for approval, as the token holder', async () => {
    const id = await placed({ status: 'RUNNING', stage: 'waiting_for_approval' });
    expect((await cancel(id)).statusCode).toBe(202);
    expect(orders.cancellations).toEqual([{ id, by: 'chris' }]);
  });

  it('needs an approver token (401)', async () => {
    const id = await placed({ status: 'RUNNING', stage: 'waiting_for_approval' });
    expect((await cancel(id, null)).statusCode).toBe(401);
    expect(orders.cancellations).toEqual([]);
  });

  it('refuses a finished order, or one already decided, with 409 and a message', async () => {
    const finished = await placed({ status: 'COMPLETED' });
    expect((await cancel(finished)).json().message).toMatch(/COMPLETED: there is nothing to cancel/);
    const approved = await placed({ status: 'RUNNING' });
    const approval = await app.inject({
      method: 'POST',
      url: `/orders/${approved}/approve`,
      payload: { approved: true },
      headers: { authorization: `Bearer ${DANA_TOKEN}` },
    });
    expect(approval.statusCode).toBe(202);
    const late = await cancel(approved);
    expect(late.statusCode).toBe(409);
    expect(late.json().message).toMatch(/already approved by Dana/);
    expect(orders.cancellations).toEqual([]);
  });

  it('keeps a cancel for a big order that does not wait yet (202)', async () => {
    const id = await placed({ status: 'RUNNING' });
    expect((await cancel(id)).statusCode).toBe(202);
    expect(orders.cancellations).toEqual([{ id, by: 'chris' }]);
  });
});

describe('DELETE /orders/:id', () => {
  const purge = (id: string, token: string | null = ADMIN_TOKEN) =>
    app.inject({
      method: 'DELETE',
      url: `/orders/${id}`,
      headers: token === null ? {} : { authorization: `Bearer ${token}` },
    });

  it('purges a finished order for the admin, and the id is free', async () => {
    const { id } = (await post(ORDER)).json<{ id: string }>();
    orders.update(id, { status: 'COMPLETED' });
    expect((await purge(id, null)).statusCode).toBe(401);
    expect((await purge(id, CHRIS_TOKEN)).statusCode).toBe(401);
    expect((await purge(id)).statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: `/orders/${id}` })).statusCode).toBe(404);
  });

  it('purges nothing while the projection cannot be told (503), and the same request purges it later', async () => {
    const { id } = (await post(ORDER)).json<{ id: string }>();
    orders.update(id, { status: 'COMPLETED' });
    const markPurged = projection.markPurged;
    projection.markPurged = () => Promise.reject(new DaprError('invoke notifications: 500', 500, undefined));
    const refused = await purge(id);
    expect(refused.statusCode).toBe(503);
    expect(refused.json().message).toBe(
      `order ${id} was not purged: the order projection is not reachable; try again in a moment`,
    );
    expect((await app.inject({ method: 'GET', url: `/orders/${id}` })).json()).toMatchObject({
      id,
      status: 'COMPLETED',
    });
    expect((await app.inject({ method: 'GET', url: `/orders/${id}` })).json()).not.toHaveProperty('archived');

    const marked: string[] = [];
    projection.markPurged = (order) => {
      marked.push(order);
      return markPurged(order);
    };
    expect((await purge(id)).statusCode).toBe(200);
    expect(await orders.find(id)).toBeUndefined();
    expect(marked).toEqual([id]);
  });

  it('answers 503 for a purged order while its archive cannot be read', async () => {
    const { id } = (await post(ORDER)).json<{ id: string }>();
    orders.update(id, { status: 'COMPLETED' });
    expect((await purge(id)).statusCode).toBe(200);
    projection.final = () => Promise.reject(new DaprError('invoke notifications: 500', 500, undefined));
    const answer = await app.inject({ method: 'GET', url: `/orders/${id}` });
    expect(answer.statusCode).toBe(503);
    expect(answer.json().message).toMatch(/its archive is not reachable/);
  });

  it('keeps how the order ended for its archive when its last event has not reached the projection yet', async () => {
    const { id } = (await post(ORDER)).json<{ id: string }>();
    const at = '2026-12-06T09:00:00.000Z';
    orders.update(id, {
      status: 'COMPLETED',
      last_updated_time: at,
      order_result: { id, success: true, message: 'Order processed successfully' },
    });
    expect((await purge(id)).statusCode).toBe(200);
    const answer = await app.inject({ method: 'GET', url: `/orders/${id}` });
    expect(answer.statusCode).toBe(200);
    expect(answer.json()).toMatchObject({
      id,
      status: 'COMPLETED',
      archived: true,
      last_updated_time: at,
      order_result: { id, success: true, message: 'Order processed successfully' },
    });
  });

  it('refuses a running order with 409', async () => {
    const { id } = (await post(ORDER)).json<{ id: string }>();
    const response = await purge(id);
    expect(response.statusCode).toBe(409);
    expect(response.json().message).toMatch(/only a finished order/);
  });
});

describe('an order whose history the engine purged', () => {
  it('answers archived from the summary the projection kept of its last step; its key names it again, and nothing can be decided', async () => {
    const placed = await post({ ...ORDER, total: 1500 }, { 'idempotency-key': 'archived-1' });
    const { id } = placed.json<{ id: string }>();
    await projection.take({
      id: `${id}:rejected`,
      orderId: id,
      time: '2026-12-05T10:00:00.000Z',
      kind: 'rejected',
      text: 'Order was rejected by chris; the stock was released.',
      result: { success: false, message: 'Order was rejected by chris; the stock was released.' },
    });
    await orders.purge(id);

    const answer = await app.inject({ method: 'GET', url: `/orders/${id}` });
    expect(answer.statusCode).toBe(200);
    expect(answer.json()).toMatchObject({
      id,
      status: 'COMPLETED',
      archived: true,
      details: { ...ORDER, customer: 'R…', total: 1500 },
      last_updated_time: '2026-12-05T10:00:00.000Z',
      order_result: { id, success: false, message: expect.stringMatching(/rejected by chris/) },
    });
    const again = await post({ ...ORDER, total: 1500 }, { 'idempotency-key': 'archived-1' });
    expect(again.json().id).toBe(id);
    expect(orders.placed).toHaveLength(1);
    const late = await app.inject({
      method: 'POST',
      url: `/orders/${id}/approve`,
      payload: { approved: true },
      headers: { authorization: `Bearer ${CHRIS_TOKEN}` },
    });
    expect(late.statusCode).toBe(409);
    expect(late.json().message).toMatch(/archived/);
  });
});
