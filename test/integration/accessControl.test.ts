// Dapr access control on the real stack (components/config.<app id>.yaml, mTLS through the stack's own
// Sentry): a sidecar invokes another app only where that app's policy names the caller and the route, and
// each app's tokens open its own sidecar and app only. The caller here is a test holding notifications'
// own Dapr API token: what code running in the notifications process could do.
import { describe, expect, it } from 'vitest';
import {
  apps,
  call,
  credentials,
  finished,
  ledger,
  placeOrder,
  tokensOf,
  url,
  waitForOrder,
  waitingForApproval,
} from './client.ts';

/** Invokes `method` of `target` through `via`'s sidecar, presenting `token` (by default `via`'s own). */
async function invoke(via: string, target: string, method: string, body: unknown, token = tokensOf(via).daprApiToken) {
  const sidecar = apps()[via]?.daprHttpPort;
  const response = await fetch(`http://127.0.0.1:${sidecar}/v1.0/invoke/${target}/method/${method}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'dapr-api-token': token },
    body: JSON.stringify(body),
  });
  return { status: response.status, text: await response.text() };
}

describe('access control between the sidecars', () => {
  it("denies notifications' sidecar payments' /refund (403), and nothing is refunded", async () => {
    const id = await placeOrder({ customer: 'Guarded', items: ['milk'], total: 3 });
    expect((await waitForOrder(id, finished)).order_result?.success).toBe(true);
    expect((await ledger(id)).map((entry) => entry.kind)).toEqual(['charge']);

    const refund = await invoke('notifications', 'payments', 'refund', { orderId: id });
    expect(refund.status).toBe(403);
    expect(refund.text).toMatch(
      /access control policy has denied access to id: spiffe:\/\/public\/ns\/default\/notifications/,
    );
    expect((await ledger(id)).map((entry) => entry.kind)).toEqual(['charge']);
  });

  it.each([
    ['notifications', 'inventory', 'reserve', { orderId: 'order_acl_aaaaa', items: ['milk'] }],
    ['notifications', 'shipping', 'ship', { orderId: 'order_acl_aaaaa', customer: 'x', items: ['milk'] }],
    ['notifications', 'orderprocessing', 'orders', { customer: 'Sneaky', items: ['milk'], total: 1 }],
    ['inventory', 'payments', 'charge', { orderId: 'order_acl_aaaaa', customer: 'x', amount: 1 }],
    ['orderprocessing', 'notifications', 'notifications', {}],
    ['orderprocessing', 'payments', 'payments/order_acl_aaaaa', undefined],
    ['payments', 'notifications', 'projection/list', { limit: 1 }],
    ['inventory', 'notifications', 'projection/orders/order_acl_aaaaa/purged', undefined],
  ])('denies %s → %s /%s (403)', async (via, target, method, body) => {
    expect((await invoke(via, target, method, body)).status).toBe(403);
  });

  it("lets the page's Approve through notifications' sidecar to orderprocessing's approval route", async () => {
    const id = await placeOrder({ customer: 'Paige', items: ['milk'], total: 1500 });
    await waitForOrder(id, waitingForApproval);
    // The page's own path: notifications' POST /api/orders/:id/approve, which invokes orderprocessing.
    const response = await fetch(url('notifications', `/api/orders/${id}/approve`), {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${credentials().approvers.chris}` },
      body: JSON.stringify({ approved: true }),
    });
    expect(response.status, await response.text()).toBe(202);
    expect((await waitForOrder(id, finished)).order_result?.success).toBe(true);
  });

  it("lets the page's sign-in ask orderprocessing whose a token is (GET /me)", async () => {
    const signIn = (token: string) =>
      fetch(url('notifications', '/api/session'), { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    expect((await signIn(credentials().approvers.chris ?? '')).status).toBe(204);
    expect((await signIn('not-a-readers-token-000000')).status).toBe(401);
  });

  it("lets orderprocessing's sidecar read the order projection from notifications (a page of GET /orders)", async () => {
    const page = await invoke('orderprocessing', 'notifications', 'projection/list', { limit: 1 });
    expect(page.status, page.text).toBe(200);
    expect(JSON.parse(page.text)).toMatchObject({ orders: expect.any(Array) });
  });

  it("lets orderprocessing's workflow invoke inventory, payments and shipping (an order completes)", async () => {
    const id = await placeOrder({ customer: 'Allowed', items: ['bread'], total: 2 });
    const order = await waitForOrder(id, finished);
    expect(order.status).toBe('COMPLETED');
    expect(order.order_result?.success).toBe(true);
  });
});

describe("each app's own tokens", () => {
  const appIds = ['orderprocessing', 'notifications', 'inventory', 'payments', 'shipping'];

  it('are ten different tokens', () => {
    const all = appIds.flatMap((appId) => [tokensOf(appId).daprApiToken, tokensOf(appId).appApiToken]);
    expect(new Set(all).size).toBe(10);
  });

  it("notifications' Dapr API token does not open payments' sidecar (401)", async () => {
    const answer = await invoke('payments', 'payments', 'healthz', undefined, tokensOf('notifications').daprApiToken);
    expect(answer.status).toBe(401);
    const state = await fetch(`http://127.0.0.1:${apps().payments?.daprHttpPort}/v1.0/state/statestore/x`, {
      headers: { 'dapr-api-token': tokensOf('notifications').daprApiToken },
    });
    expect(state.status).toBe(401);
  });

  it("another app's app token does not open payments' sidecar-only routes (401)", async () => {
    for (const appId of ['inventory', 'notifications', 'orderprocessing']) {
      const answer = await call('payments', '/refund', {
        method: 'POST',
        body: { orderId: 'order_acl_aaaaa' },
        headers: { 'dapr-api-token': tokensOf(appId).appApiToken },
      });
      expect(answer.status, appId).toBe(401);
    }
  });
});
