// GET /orders over the order projection (in this process here; notifications' through the sidecar in
// the stack): the route's own part, the caller, the filters, the cursor, and its answers.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { happyPath, step } from '../../notifications/test/indexHelpers.ts';
import { FakeState } from '../../shared/test/fakeState.ts';
import { buildApp, loadOrderConfig } from '../src/app.ts';
import { decodeCursor, encodeCursor } from '../src/routes/list.ts';
import { FakeEngine } from './fakeEngine.ts';
import { FakeProjection } from './fakeProjection.ts';

const CHRIS_TOKEN = 'chris-token-0123456789abcdef';
const ADMIN_TOKEN = 'admin-token-0123456789abcdef';

let app: ReturnType<typeof buildApp>;
let store: FakeState;
let projection: FakeProjection;

beforeEach(async () => {
  store = new FakeState();
  projection = new FakeProjection(store);
  await projection.take(...happyPath('order_riley_aaaaa', 0), ...happyPath('order_sam_bbbbb', 1000).slice(0, 2));
  await projection.take(
    step('order_vera_ccccc', 'received', 2000),
    step('order_vera_ccccc', 'waiting_for_approval', 2100, { deadline: '2026-11-22T10:00:00.000Z' }),
  );
  app = buildApp({
    config: loadOrderConfig({
      APP_PORT: '3000',
      LOG_LEVEL: 'silent',
      APPROVER_TOKENS: `chris:${CHRIS_TOKEN}`,
      ADMIN_TOKEN,
    }),
    engine: FakeEngine.finished(['order_riley_aaaaa']),
    store: new FakeState(),
    projection,
  });
  await app.ready();
});

afterEach(async () => {
  await app.close();
});

const list = (query = '', token: string | null = CHRIS_TOKEN) =>
  app.inject({ method: 'GET', url: `/orders${query}`, headers: token ? { authorization: `Bearer ${token}` } : {} });

describe('GET /orders', () => {
  it('lists orders newest first, with their status, last step, deadline and flags', async () => {
    const answer = await list();
    expect(answer.statusCode).toBe(200);
    expect(answer.json()).toEqual({
      orders: [
        {
          id: 'order_vera_ccccc',
          customer: 'vera',
          status: 'RUNNING',
          last_step: 'waiting_for_approval',
          created_time: '2026-11-21T10:00:02.000Z',
          last_updated_time: '2026-11-21T10:00:02.100Z',
          approval_deadline: '2026-11-22T10:00:00.000Z',
          flags: [],
        },
        expect.objectContaining({ id: 'order_sam_bbbbb', status: 'RUNNING', last_step: 'stock_reserved' }),
        expect.objectContaining({ id: 'order_riley_aaaaa', status: 'COMPLETED', last_step: 'shipped' }),
      ],
    });
  });

  it('pages with an opaque cursor, and filters', async () => {
    const first = (await list('?limit=2')).json();
    expect(first.orders.map((order: { id: string }) => order.id)).toEqual(['order_vera_ccccc', 'order_sam_bbbbb']);
    const second = (await list(`?limit=2&cursor=${first.next_cursor}`)).json();
    expect(second.orders.map((order: { id: string }) => order.id)).toEqual(['order_riley_aaaaa']);
    expect(second.next_cursor).toBeUndefined();

    const running = (await list('?status=RUNNING&customer=SAM')).json();
    expect(running.orders.map((order: { id: string }) => order.id)).toEqual(['order_sam_bbbbb']);
    const window = (await list('?from=2026-11-21T10:00:00.500Z&to=2026-11-21T11:00:01.500%2B01:00')).json();
    expect(window.orders.map((order: { id: string }) => order.id)).toEqual(['order_sam_bbbbb']);
  });

  it('is for approvers and the admin: anyone else gets 401, before their query is even read', async () => {
    expect((await list('', ADMIN_TOKEN)).statusCode).toBe(200);
    const nobody = await list('?status=nonsense', null);
    expect(nobody.statusCode).toBe(401);
    expect(nobody.json().message).toMatch(/Bearer/);
    expect((await list('', 'not-a-token-of-anyone')).statusCode).toBe(401);
  });

  it.each([
    ['?status=running', 422, /status/],
    ['?last_step=stalled', 422, /last_step/],
    ['?limit=0', 422, /limit/],
    ['?limit=101', 422, /limit/],
    ['?limit=ten', 422, /limit/],
    ['?from=yesterday', 422, /from/],
    ['?from=2026-11-21T12:00:00Z&to=2026-11-21T11:00:00Z', 422, /earlier/],
    ['?customer=', 422, /customer/],
    ['?sort=oldest', 422, /sort|unrecognized/i],
    ['?cursor=not-a-cursor', 400, /cursor/],
    [`?cursor=${Buffer.from('{"v":1,"at":-5,"id":"x"}').toString('base64url')}`, 400, /cursor/],
  ])('%s gets a clear %i', async (query, status, message) => {
    const answer = await list(query);
    expect(answer.statusCode).toBe(status);
    expect(answer.json().message).toMatch(message);
  });

  it('leaves out an order once it is purged', async () => {
    const purged = await app.inject({
      method: 'DELETE',
      url: '/orders/order_riley_aaaaa',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(purged.statusCode).toBe(200);
    expect((await projection.find('order_riley_aaaaa'))?.purged).toBe(true);
    const ids = (await list()).json().orders.map((order: { id: string }) => order.id);
    expect(ids).toEqual(['order_vera_ccccc', 'order_sam_bbbbb']);
  });

  it('answers 503 when the projection does not answer', async () => {
    const down = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:3500'), { code: 'ECONNREFUSED' });
    store.getState = async () => {
      throw down;
    };
    const answer = await list();
    expect(answer.statusCode).toBe(503);
    expect(answer.json().message).toMatch(/not reachable/);
  });

  it('knows its cursors: anything else is not one', () => {
    const cursor = encodeCursor({ at: 1234, id: 'order_sam_00001' });
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(cursor)).toEqual({ at: 1234, id: 'order_sam_00001' });
    for (const bad of ['', 'not a cursor', 'e30', Buffer.from('{"v":2,"at":1,"id":"x"}').toString('base64url')]) {
      expect(decodeCursor(bad)).toBeUndefined();
    }
  });

  it('is in the OpenAPI document with its filters', async () => {
    const spec = (await app.inject({ method: 'GET', url: '/docs/json' })).json();
    const parameters = spec.paths['/orders'].get.parameters.map((parameter: { name: string }) => parameter.name);
    expect(parameters).toEqual(
      expect.arrayContaining(['status', 'last_step', 'customer', 'from', 'to', 'limit', 'cursor']),
    );
  });
});
