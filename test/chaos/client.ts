// How a chaos run talks to a stack whose processes come and go: every call is tried again while the
// app is down or answers 5xx, the way a patient client would. Placing an order sends an Idempotency-Key,
// so that a POST whose answer was lost (the app killed after it started the workflow) names the same
// order when it is tried again, instead of placing a second one.
import { setTimeout as sleep } from 'node:timers/promises';
import type { PlannedOrder } from './plan.ts';

export interface Answer<T> {
  status: number;
  body: T;
}

export interface ListedOrder {
  id: string;
  customer: string;
  status: string;
  last_step: string;
}

export interface ChaosClientOptions {
  /** Base URL of each app, e.g. http://127.0.0.1:41234. */
  url: (appId: string) => string;
  credentials: {
    approvers: Record<string, string>;
    admin: string;
    apps: Record<string, { daprApiToken: string; appApiToken: string }>;
  };
  attempts?: number;
  /** Each try's own timeout. */
  timeoutMs?: number;
}

export class ChaosClient {
  /** POSTs that were tried again after a failure (their first try may have had an effect). */
  retriedPosts = 0;

  constructor(private readonly options: ChaosClientOptions) {}

  /** Who presents which token: approvals as chris, operator calls as admin, internal services as the sidecar. */
  private credentialsFor(appId: string, path: string): Record<string, string> {
    const { approvers, admin, apps } = this.options.credentials;
    if (/\/(approve|cancel)$/.test(path)) return { authorization: `Bearer ${approvers.chris}` };
    if (path.startsWith('/shipping/') && path.endsWith('activate')) return { authorization: `Bearer ${admin}` };
    if (appId === 'orderprocessing' && path.startsWith('/orders?')) return { authorization: `Bearer ${admin}` };
    if (appId === 'orderprocessing' || appId === 'notifications') return {};
    return { 'dapr-api-token': apps[appId]?.appApiToken ?? '' };
  }

  async call<T>(appId: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer<T>> {
    const attempts = this.options.attempts ?? 60;
    for (let attempt = 1; ; attempt++) {
      try {
        const response = await fetch(`${this.options.url(appId)}${path}`, {
          method: body === undefined ? 'GET' : 'POST',
          headers: {
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
            ...this.credentialsFor(appId, path),
            ...headers,
          },
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: AbortSignal.timeout(this.options.timeoutMs ?? 5000),
        });
        const text = await response.text();
        if (response.status >= 500 && attempt < attempts) throw new Error(`HTTP ${response.status}`);
        return { status: response.status, body: (text ? JSON.parse(text) : {}) as T };
      } catch (error) {
        // The app may be down right now: that is the point. Try again shortly.
        if (attempt >= attempts) throw error;
        if (body !== undefined) this.retriedPosts += 1;
        await sleep(500);
      }
    }
  }

  /** Places the order; tried again until it is accepted, always as the same order. */
  placeOrder(order: Pick<PlannedOrder, 'customer' | 'items' | 'total' | 'idempotencyKey'>) {
    const { customer, items, total } = order;
    return this.call<{ id: string }>(
      'orderprocessing',
      '/orders',
      { customer, items, total },
      { 'idempotency-key': order.idempotencyKey },
    );
  }

  /** Every order the order index lists, newest first (all pages). */
  async listOrders(): Promise<ListedOrder[]> {
    const orders: ListedOrder[] = [];
    let cursor: string | undefined;
    do {
      const query = `limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const page = await this.call<{ orders: ListedOrder[]; next_cursor?: string }>(
        'orderprocessing',
        `/orders?${query}`,
      );
      if (page.status !== 200) throw new Error(`GET /orders answered ${page.status}`);
      orders.push(...page.body.orders);
      cursor = page.body.next_cursor;
    } while (cursor);
    return orders;
  }
}
