// The order API's own defences, through app.inject: rate limit, OpenAPI document, hostile keys.
import { afterEach, describe, expect, it } from 'vitest';
import { FakeState } from '../../shared/test/fakeState.ts';
import { buildApp, loadOrderConfig } from '../src/app.ts';
import { FakeEngine } from './fakeEngine.ts';
import { FakeProjection } from './fakeProjection.ts';

const fakes = () => ({ engine: new FakeEngine(), store: new FakeState(), projection: new FakeProjection() });

let app: ReturnType<typeof buildApp> | undefined;
afterEach(async () => {
  await app?.close();
});

const order = { customer: 'Riley', items: ['milk'], total: 1 };

describe('POST /orders rate limit', () => {
  it('answers 429 once a client has placed its orders for the minute', async () => {
    app = buildApp({
      config: loadOrderConfig({ APP_PORT: '3000', LOG_LEVEL: 'silent', RATE_LIMIT_ORDERS_PER_MINUTE: '3' }),
      ...fakes(),
    });
    const statuses = [];
    for (let n = 0; n < 5; n++) {
      statuses.push((await app.inject({ method: 'POST', url: '/orders', payload: order })).statusCode);
    }
    expect(statuses).toEqual([202, 202, 202, 429, 429]);
  });
});

describe('the other limits', () => {
  const CHRIS = 'chris-approver-token-0123456789';
  const build = (env: Record<string, string>) =>
    buildApp({
      config: loadOrderConfig({ APP_PORT: '3000', LOG_LEVEL: 'silent', APPROVER_TOKENS: `chris:${CHRIS}`, ...env }),
      ...fakes(),
    });
  const approve = (token: string, client = '127.0.0.1') =>
    app?.inject({
      method: 'POST',
      url: '/orders/order_nobody_zzzzz/approve',
      payload: { approved: true },
      headers: { authorization: `Bearer ${token}`, 'x-forwarded-for': client },
    });

  it('decisions: approvals, rejections and cancellations count together', async () => {
    app = build({ RATE_LIMIT_DECISIONS_PER_MINUTE: '3' });
    const statuses = [];
    for (let n = 0; n < 2; n++) statuses.push((await approve(CHRIS))?.statusCode);
    const cancel = { method: 'POST' as const, url: '/orders/order_nobody_zzzzz/cancel' };
    for (let n = 0; n < 2; n++) {
      statuses.push((await app.inject({ ...cancel, headers: { authorization: `Bearer ${CHRIS}` } })).statusCode);
    }
    expect(statuses).toEqual([404, 404, 404, 429]);
  });

  it('reads: GET /orders/:id', async () => {
    app = build({ RATE_LIMIT_READS_PER_MINUTE: '2' });
    const statuses = [];
    for (let n = 0; n < 3; n++) statuses.push((await app.inject('/orders/order_nobody_zzzzz')).statusCode);
    expect(statuses).toEqual([404, 404, 429]);
  });

  it('refused credentials: after 3 401s a client gets 429, even with a good token, until the minute ends', async () => {
    app = build({ RATE_LIMIT_AUTH_FAILURES_PER_MINUTE: '3' });
    const statuses = [];
    for (let n = 0; n < 4; n++) statuses.push((await approve('a-guessed-token-000000000'))?.statusCode);
    const good = await approve(CHRIS);
    expect([...statuses, good?.statusCode]).toEqual([401, 401, 401, 429, 429]);
    expect(good?.headers['retry-after']).toMatch(/^\d+$/);
    expect(good?.json().message).toMatch(/too many refused credentials/);
    // Without credentials, the client is served as before.
    expect((await app.inject('/orders/order_nobody_zzzzz')).statusCode).toBe(404);
  });

  it('do not hold what our sidecar passes on (the page limits its own clients): not counted, not refused', async () => {
    const APP_API_TOKEN = 'the-sidecars-token-for-its-app';
    app = build({ RATE_LIMIT_DECISIONS_PER_MINUTE: '2', RATE_LIMIT_AUTH_FAILURES_PER_MINUTE: '1', APP_API_TOKEN });
    const viaSidecar = (token: string) =>
      app?.inject({
        method: 'POST',
        url: '/orders/order_nobody_zzzzz/approve',
        payload: { approved: true },
        headers: { authorization: `Bearer ${token}`, 'dapr-api-token': APP_API_TOKEN },
      });
    const statuses = [];
    for (let n = 0; n < 3; n++) statuses.push((await viaSidecar('a-guessed-token-000000000'))?.statusCode);
    for (let n = 0; n < 3; n++) statuses.push((await viaSidecar(CHRIS))?.statusCode);
    expect(statuses).toEqual([401, 401, 401, 404, 404, 404]);
  });

  it('tell clients apart by X-Forwarded-For only behind a trusted proxy (TRUST_PROXY)', async () => {
    for (const [trustProxy, expected] of [
      ['false', [401, 429]],
      ['127.0.0.1', [401, 401]],
    ] as const) {
      app = build({ RATE_LIMIT_AUTH_FAILURES_PER_MINUTE: '1', TRUST_PROXY: trustProxy });
      const first = await approve('a-guessed-token-000000000', '198.51.100.1');
      const other = await approve('a-guessed-token-000000000', '198.51.100.2');
      expect([first?.statusCode, other?.statusCode], `TRUST_PROXY=${trustProxy}`).toEqual(expected);
      await app.close();
    }
  });
});

describe('the OpenAPI document', () => {
  it('is generated from the zod schemas and served at /docs', async () => {
    app = buildApp({ config: loadOrderConfig({ APP_PORT: '3000', LOG_LEVEL: 'silent' }), ...fakes() });
    const doc = (await app.inject({ method: 'GET', url: '/docs/json' })).json();
    expect(doc.openapi).toMatch(/^3\./);
    const body = doc.paths['/orders'].post.requestBody.content['application/json'].schema;
    expect(body.required).toEqual(expect.arrayContaining(['customer', 'items', 'total']));
    expect(body.properties.items.items.enum).toEqual(['milk', 'bread', 'apples', 'oranges', 'iPhone']);
    // Every route's error answers are in the document, as the one error handler sends them.
    const answers = (path: string, method: string) => Object.keys(doc.paths[path][method].responses);
    expect(answers('/orders', 'post')).toEqual(expect.arrayContaining(['202', '400', '422', '429', '503']));
    expect(answers('/orders/{orderId}', 'get')).toEqual(expect.arrayContaining(['200', '404']));
    expect(answers('/orders/{orderId}/approve', 'post')).toEqual(
      expect.arrayContaining(['202', '401', '403', '404', '409', '422']),
    );
    expect(answers('/orders/{orderId}', 'delete')).toEqual(expect.arrayContaining(['200', '401', '404', '409']));
    expect(answers('/orders', 'get')).toEqual(expect.arrayContaining(['200', '400', '401', '422']));
    const problem = doc.paths['/orders/{orderId}/approve'].post.responses['409'].content['application/json'].schema;
    expect(problem.required).toEqual(expect.arrayContaining(['statusCode', 'message']));
    const ui = await app.inject({ method: 'GET', url: '/docs/' });
    expect(ui.statusCode).toBe(200);
  });
});

describe('hostile keys', () => {
  it('__proto__ and constructor in a body change no prototype and place no order', async () => {
    app = buildApp({ config: loadOrderConfig({ APP_PORT: '3000', LOG_LEVEL: 'silent' }), ...fakes() });
    for (const hostile of [
      '{"customer":"A","items":["milk"],"total":1,"__proto__":{"polluted":true}}',
      '{"customer":"A","items":["milk"],"total":1,"constructor":{"prototype":{"polluted":true}}}',
    ]) {
      const response = await app.inject({
        method: 'POST',
        url: '/orders',
        payload: hostile,
        headers: { 'content-type': 'application/json' },
      });
      expect(response.statusCode).toBeLessThan(500);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    }
  });
});
