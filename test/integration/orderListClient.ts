// GET /orders for the integration tests: the list as an approver (or someone else) sees it.
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Caller, call } from './client.ts';

export interface ListedOrder {
  id: string;
  customer: string;
  status: string;
  last_step: string;
  created_time: string;
  last_updated_time: string;
  approval_deadline?: string;
  flags: string[];
}
interface OrderPage {
  orders: ListedOrder[];
  next_cursor?: string;
  message?: string;
}

export const uniqueName = (prefix: string) =>
  `${prefix}${Array.from(randomBytes(6), (byte) => 'abcdefghijklmnopqrstuvwxyz'[byte % 26]).join('')}`;

export async function listOrders(query: Record<string, string>, as: Caller = 'chris') {
  return call<OrderPage>('orderprocessing', `/orders?${new URLSearchParams(query)}`, { as });
}

/** Polls the list until `done` holds for the order (the index follows the steps, a moment behind). */
export async function waitForListed(
  customer: string,
  id: string,
  done: (order: ListedOrder) => boolean,
  timeoutMs = 15_000,
): Promise<ListedOrder> {
  const deadline = Date.now() + timeoutMs;
  let last: ListedOrder | undefined;
  while (Date.now() < deadline) {
    last = (await listOrders({ customer, limit: '100' })).body.orders.find((order) => order.id === id);
    if (last && done(last)) return last;
    await sleep(100);
  }
  throw new Error(`order ${id} was not listed as expected within ${timeoutMs} ms; last seen: ${JSON.stringify(last)}`);
}
