// GET /orders for the integration tests: the list as an approver (or someone else) sees it.
import { randomBytes } from 'node:crypto';
import { type Caller, call, pollUntil } from './client.ts';

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
  const listed = await pollUntil(
    `order ${id} was not listed as expected`,
    async () => (await listOrders({ customer, limit: '100' })).body.orders.find((order) => order.id === id),
    (order) => order !== undefined && done(order),
    timeoutMs,
  );
  return listed as ListedOrder;
}
