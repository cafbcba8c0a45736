// Bounded storage on the real runtime (test/scale's stack), with retentions of seconds instead of days: the
// engine purges a finished order's workflow history (2 s), the services' per-order keys expire (8 s), and
// what is kept of an order answers for it: its id claim with how it ended (archived), and its ledger. An
// order that waits for approval keeps its history.
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, inject, it } from 'vitest';
import { run } from '../../scripts/lib/proc.ts';

const scale = () => inject('scale');

async function call<T = Record<string, unknown>>(
  appId: string,
  path: string,
  init: { method?: string; body?: unknown; headers?: Record<string, string> } = {},
) {
  const response = await fetch(`${scale().urls[appId]?.[0]}${path}`, {
    method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
    headers: { ...(init.body === undefined ? {} : { 'content-type': 'application/json' }), ...init.headers },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  return { status: response.status, body: (await response.json()) as T };
}

const admin = () => ({ authorization: `Bearer ${scale().credentials.admin}` });

/** The Redis keys of the stack that name the order (the apps' keys and the workflow engine's). */
async function keysOf(orderId: string): Promise<string[]> {
  const result = await run('redis-cli', ['-p', String(scale().redisPort), '--scan', '--pattern', `*${orderId}*`]);
  return result.stdout.split('\n').filter(Boolean).sort();
}
const historyKeys = async (orderId: string) => (await keysOf(orderId)).filter((key) => key.includes('.workflow||'));

async function until<T>(what: string, read: () => Promise<T>, done: (value: T) => boolean, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`${what}; last: ${JSON.stringify(value)}`);
    await sleep(200);
  }
}

interface View {
  status: string;
  archived?: boolean;
  stage?: string;
  order_result?: { success: boolean; message: string };
}

async function placeAndFinish(order: unknown, key: string): Promise<string> {
  const placed = await call<{ id: string }>('orderprocessing', '/orders', {
    body: order,
    headers: { 'idempotency-key': key },
  });
  expect(placed.status).toBe(202);
  const id = placed.body.id;
  await until(
    `${id} finished`,
    () => call<View>('orderprocessing', `/orders/${id}`),
    (o) => o.body.status === 'COMPLETED',
  );
  return id;
}

describe('with retentions of seconds', () => {
  const order = { customer: 'Keeper', items: ['milk'], total: 3 };
  let id = '';

  it("purges a finished order's workflow history from the store", async () => {
    id = await placeAndFinish(order, 'keeper-1');
    expect((await historyKeys(id)).length).toBeGreaterThan(5); // there at the end
    await until(
      `the history of ${id} purged`,
      () => historyKeys(id),
      (keys) => keys.length === 0,
    );
  });

  it('answers for it archived, and lists it', async () => {
    const answer = await call<View>('orderprocessing', `/orders/${id}`, { headers: admin() });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({
      status: 'COMPLETED',
      archived: true,
      details: order,
      order_result: { success: true, message: 'Order processed successfully' },
    });
    const listed = await call<{ orders: { id: string }[] }>('orderprocessing', '/orders?customer=keeper', {
      headers: admin(),
    });
    expect(listed.body.orders.map((o) => o.id)).toContain(id);
  });

  it('names the archived order again for its Idempotency-Key, and starts no workflow', async () => {
    const again = await call<{ id: string }>('orderprocessing', '/orders', {
      body: order,
      headers: { 'idempotency-key': 'keeper-1' },
    });
    expect(again).toMatchObject({ status: 202, body: { id } });
    await sleep(500);
    expect(await historyKeys(id)).toEqual([]);
    expect((await call<View>('orderprocessing', `/orders/${id}`)).body.archived).toBe(true);
  });

  it('never places a purged id again', async () => {
    const purged = await placeAndFinish({ ...order, customer: 'Purged' }, 'purged-1');
    expect((await call('orderprocessing', `/orders/${purged}`, { method: 'DELETE', headers: admin() })).status).toBe(
      200,
    );
    const again = await call<{ id: string }>('orderprocessing', '/orders', {
      body: { ...order, customer: 'Purged' },
      headers: { 'idempotency-key': 'purged-1' },
    });
    expect(again.body.id).toBe(purged);
    await sleep(500);
    expect(await historyKeys(purged)).toEqual([]);
    const ledger = await call<{ entries: unknown[] }>('payments', `/payments/${purged}`, {
      headers: { 'dapr-api-token': scale().credentials.apps.payments?.appApiToken ?? '' },
    });
    expect(ledger.body.entries).toHaveLength(1); // charged once, never again
  });

  it('keeps the history of an order that waits for approval', async () => {
    const waiting = await call<{ id: string }>('orderprocessing', '/orders', { body: { ...order, total: 1500 } });
    const wid = waiting.body.id;
    await until(
      `${wid} waiting`,
      () => call<View>('orderprocessing', `/orders/${wid}`),
      (o) => o.body.stage === 'waiting_for_approval',
    );
    await sleep(4_000); // twice the history retention
    expect((await historyKeys(wid)).length).toBeGreaterThan(5);
    const view = await call<View>('orderprocessing', `/orders/${wid}`);
    expect(view.body).toMatchObject({ status: 'RUNNING', stage: 'waiting_for_approval' });
    expect(view.body.archived).toBeUndefined();
  });

  it('keeps at most 3 keys of about 700 bytes of a finished order once every retention has passed', async () => {
    const keys = await until(
      `the records of ${id} expired`,
      () => keysOf(id),
      (found) => found.length <= 3,
      30_000,
    );
    // Its ledger, its id claim (with the order as placed) and how it ended (the projection's final summary).
    const kinds = keys.map((key) => key.split('||')[1]?.split(':').slice(0, -1).join(':')).sort();
    expect(kinds).toEqual(['index:final', 'ledger', 'order-id']);
    const redis = async (...args: string[]) =>
      Number((await run('redis-cli', ['-p', String(scale().redisPort), ...args])).stdout.trim());
    let data = 0;
    let memory = 0;
    for (const key of keys) {
      data += await redis('HSTRLEN', key, 'data');
      memory += await redis('MEMORY', 'USAGE', key);
    }
    process.stdout.write(`what is kept of ${id}: ${keys.length} keys, ${data} bytes of data (${memory} in Redis)\n`);
    expect(data).toBeLessThan(700);
    expect((await call<View>('orderprocessing', `/orders/${id}`)).body.archived).toBe(true);
  }, 60_000);
});
