// What the integration tests use to talk to the stack they run on.

import { request } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { inject } from 'vitest';
import type { Notification } from '#shared/messages.ts';
import { READER_COOKIE } from '../../services/notifications/src/readers.ts';

export const apps = () => inject('apps');

export function url(appId: string, path: string): string {
  const endpoints = apps()[appId];
  if (!endpoints) throw new Error(`no app ${appId}`);
  return `http://127.0.0.1:${endpoints.appPort}${path}`;
}

export interface Answer<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  body: T;
}

export const credentials = () => inject('credentials');

/** An app's own tokens: its DAPR_API_TOKEN (for its sidecar's API) and its APP_API_TOKEN (its sidecar's). */
export function tokensOf(appId: string): { daprApiToken: string; appApiToken: string } {
  const tokens = credentials().apps[appId];
  if (!tokens) throw new Error(`no tokens for app ${appId}`);
  return tokens;
}

/** The internal services answer only their sidecar: tests call them directly with that sidecar's token. */
const INTERNAL = new Set(['inventory', 'payments', 'shipping']);

/**
 * Who the call comes from: by default the sidecar for internal services (with the app token) and
 * nobody in particular for public ones; 'stranger' never presents a token; 'admin' and an approver's
 * name present their bearer token.
 */
export type Caller = 'default' | 'stranger' | 'admin' | 'chris' | 'dana';

function credentialHeaders(appId: string, as: Caller): Record<string, string> {
  const known = credentials();
  if (as === 'stranger') return {};
  if (as === 'admin') return { authorization: `Bearer ${known.admin}` };
  if (as === 'chris' || as === 'dana') return { authorization: `Bearer ${known.approvers[as]}` };
  if (appId === 'notifications') return readerCookie();
  return INTERNAL.has(appId) ? { 'dapr-api-token': tokensOf(appId).appApiToken } : {};
}

/**
 * The cookie of a browser that signed in on the page with an approver's token (POST /api/session sets it):
 * the page's API and live stream then show customers' names whole, which most tests compare.
 */
export const readerCookie = () => ({
  cookie: `${READER_COOKIE}=${encodeURIComponent(credentials().approvers.chris ?? '')}`,
});

export async function call<T = Record<string, unknown>>(
  appId: string,
  path: string,
  init: {
    method?: string;
    body?: unknown;
    rawBody?: string;
    headers?: Record<string, string>;
    as?: Caller;
    signal?: AbortSignal;
  } = {},
): Promise<Answer<T>> {
  const hasBody = init.body !== undefined || init.rawBody !== undefined;
  const response = await fetch(url(appId, path), {
    method: init.method ?? (hasBody ? 'POST' : 'GET'),
    headers: {
      ...(hasBody ? { 'content-type': 'application/json' } : {}),
      ...credentialHeaders(appId, init.as ?? 'default'),
      ...init.headers,
    },
    body: init.rawBody ?? (init.body === undefined ? undefined : JSON.stringify(init.body)),
    signal: init.signal,
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: (text ? JSON.parse(text) : {}) as T };
}

/**
 * A request whose path goes out exactly as written: fetch would resolve `/./` and `/../` first. For the
 * tests of other spellings of a route; answers the status only.
 */
export function rawCall(
  appId: string,
  method: string,
  path: string,
  init: { body?: string; as?: Caller; signal?: AbortSignal } = {},
): Promise<number> {
  const port = apps()[appId]?.appPort;
  const headers = {
    ...credentialHeaders(appId, init.as ?? 'default'),
    // Node sends a DELETE's body unframed unless told its length.
    ...(init.body === undefined
      ? {}
      : { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(init.body)) }),
  };
  return new Promise((resolve, reject) => {
    const sent = request({ host: '127.0.0.1', port, method, path, headers, signal: init.signal }, (answer) => {
      answer.resume();
      answer.on('end', () => resolve(answer.statusCode ?? 0));
    });
    sent.on('error', reject);
    sent.end(init.body);
  });
}

export interface OrderView {
  id: string;
  status: string;
  stage?: string;
  details: { customer: string; items: string[]; total: number };
  order_result?: { id: string; success: boolean; message: string };
  failure_details?: { error_type: string; message: string };
}

export async function placeOrder(order: unknown, headers: Record<string, string> = {}): Promise<string> {
  const answer = await call<{ id: string }>('orderprocessing', '/orders', { body: order, headers });
  if (answer.status !== 202) throw new Error(`POST /orders answered ${answer.status}: ${JSON.stringify(answer.body)}`);
  return answer.body.id;
}

export async function getOrder(id: string): Promise<OrderView> {
  return (await call<OrderView>('orderprocessing', `/orders/${id}`)).body;
}

/** Reads until `done` holds for what was read; fails the test after `timeoutMs`, showing the last read. */
export async function pollUntil<T>(
  what: string,
  read: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs: number,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < deadline) {
    last = await read();
    if (done(last)) return last;
    await sleep(100);
  }
  throw new Error(`${what} within ${timeoutMs} ms; last seen: ${JSON.stringify(last)}`);
}

/** Polls the order until `done` holds (or fails the test after `timeoutMs`). */
export function waitForOrder(id: string, done: (order: OrderView) => boolean, timeoutMs = 30_000): Promise<OrderView> {
  return pollUntil(`order ${id} did not get there`, () => getOrder(id), done, timeoutMs);
}

export const finished = (order: OrderView) => ['COMPLETED', 'FAILED', 'TERMINATED'].includes(order.status);
export const waitingForApproval = (order: OrderView) => order.stage === 'waiting_for_approval';

export async function stock(): Promise<Record<string, number>> {
  return (await call<{ stock: Record<string, number> }>('inventory', '/inventory')).body.stock;
}

export async function ledger(orderId: string): Promise<{ kind: string; amount: number }[]> {
  return (await call<{ entries: { kind: string; amount: number }[] }>('payments', `/payments/${orderId}`)).body.entries;
}

export async function timeline(orderId: string): Promise<Notification[]> {
  const answer = await call<{ events: Notification[] }>('notifications', `/api/orders/${orderId}/timeline`);
  return answer.body.events;
}

/** Notifications travel through pub/sub: wait until the order's timeline holds `kind`. */
export function waitForNotification(orderId: string, kind: string, timeoutMs = 10_000) {
  return pollUntil(
    `no ${kind} notification for ${orderId}`,
    () => timeline(orderId),
    (events) => events.some((event) => event.kind === kind),
    timeoutMs,
  );
}
