// Who may call what, on the real stack: the internal services answer their sidecar only, operators need
// the admin token, approvers their own token; the page carries a CSP without inline scripts.
import { describe, expect, it } from 'vitest';
import { pathVariants, SIDECAR_ONLY_ROUTES } from '../../services/shared/test/routeSpellings.ts';
import {
  apps,
  call,
  finished,
  placeOrder,
  rawCall,
  tokensOf,
  waitForNotification,
  waitForOrder,
  waitingForApproval,
} from './client.ts';

describe('the internal services', () => {
  it.each([
    ['inventory', 'POST', '/reserve', { orderId: 'order_x_aaaaa', items: ['milk'] }],
    ['inventory', 'GET', '/inventory', undefined],
    ['payments', 'POST', '/charge', { orderId: 'order_x_aaaaa', customer: 'x', amount: 1 }],
    ['payments', 'GET', '/payments/order_x_aaaaa', undefined],
    ['shipping', 'POST', '/ship', { orderId: 'order_x_aaaaa', customer: 'x', items: ['milk'] }],
  ])('%s %s %s refuses a direct call without the app token (401)', async (appId, method, path, body) => {
    const answer = await call(appId, path, { method, body, as: 'stranger' });
    expect(answer.status).toBe(401);
    expect(answer.body.message).toMatch(/through Dapr only/);
  });

  it('answer their health check without a token', async () => {
    for (const appId of ['inventory', 'payments', 'shipping']) {
      expect((await call(appId, '/healthz', { as: 'stranger' })).status).toBe(200);
    }
  });

  it('still serve the workflow, which calls them through Dapr', async () => {
    const id = await placeOrder({ customer: 'Secure', items: ['bread'], total: 2 });
    expect((await waitForOrder(id, finished)).order_result?.success).toBe(true);
  });
});

describe('the routes only the sidecar may call', () => {
  const routes = Object.entries(SIDECAR_ONLY_ROUTES).flatMap(([appId, list]) =>
    list.map(([method, path]) => [appId, method, path] as const),
  );
  it.each(routes)('%s %s %s: no spelling of its path is served without the app token', async (appId, method, path) => {
    const served: string[] = [];
    for (const spelling of [path, ...pathVariants(path)]) {
      const status = await rawCall(appId, method, spelling, {
        as: 'stranger',
        body: method === 'POST' ? '{}' : undefined,
      });
      if (status !== 401 && status !== 404) served.push(`${spelling} → ${status}`);
    }
    expect(served).toEqual([]);
  });
});

describe('the sidecars', () => {
  it("refuse their API to a caller without the Dapr API token, and serve our apps' token", async () => {
    const sidecar = `http://127.0.0.1:${apps().inventory?.daprHttpPort}/v1.0`;
    const anonymous = await fetch(`${sidecar}/state/statestore/stock`);
    expect(anonymous.status).toBe(401);
    const invoked = await fetch(`${sidecar}/invoke/payments/method/payments/order_x_aaaaa`);
    expect(invoked.status).toBe(401);
    const ours = await fetch(`${sidecar}/state/statestore/stock`, {
      headers: { 'dapr-api-token': tokensOf('inventory').daprApiToken },
    });
    expect(ours.status).toBe(200);
  });
});

describe('the shipping toggles', () => {
  it('need the admin token (401 without it, and nothing changes)', async () => {
    expect((await call('shipping', '/shipping/deactivate', { method: 'POST', as: 'stranger' })).status).toBe(401);
    const wrong = await call('shipping', '/shipping/deactivate', {
      method: 'POST',
      headers: { authorization: 'Bearer not-the-admin-token-at-all' },
    });
    expect(wrong.status).toBe(401);
    expect((await call<{ active: boolean }>('shipping', '/shipping/status')).body.active).toBe(true);
  });
});

describe('approving', () => {
  it('needs an approver token, and records the token holder, not the body', async () => {
    const id = await placeOrder({ customer: 'Vera', items: ['milk'], total: 1500 });
    await waitForOrder(id, waitingForApproval);
    const path = `/orders/${id}/approve`;
    expect((await call('orderprocessing', path, { body: { approved: true }, as: 'stranger' })).status).toBe(401);
    expect(
      (await call('orderprocessing', path, { body: { approver: 'dana', approved: true }, as: 'chris' })).status,
    ).toBe(403);
    expect(
      (await call('orderprocessing', path, { body: { approver: 'DANA', approved: true }, as: 'dana' })).status,
    ).toBe(202);
    const order = await waitForOrder(id, finished);
    expect(order.order_result?.success).toBe(true);
    // The approver recorded is the token's holder, "dana", however the body spelled the name.
    const approved = (await waitForNotification(id, 'approved')).filter((event) => event.kind === 'approved');
    expect(approved.map((event) => event.text)).toEqual(['Order was approved by dana.']);
  });
});

describe('the page', () => {
  it('is served with security headers and a CSP that allows no inline script', async () => {
    const answer = await fetch(`${(await import('./client.ts')).url('notifications', '/')}`);
    const csp = answer.headers.get('content-security-policy') ?? '';
    expect(csp).toMatch(/script-src 'self'/);
    expect(csp).not.toMatch(/script-src[^;]*unsafe-inline/);
    expect(answer.headers.get('x-content-type-options')).toBe('nosniff');
  });
});
