// Two replicas of every app (test/scale's stack), each its own app process and daprd under the same app
// id, on the real runtime: one Idempotency-Key is one order when two replicas get it at the same moment, stock is exact
// across inventory replicas, workflows run on both orderprocessing replicas, and the live page hears every
// order whichever notifications replica pub/sub hands it to. The chaos run kills them (test/chaos).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, inject, it } from 'vitest';
import { READER_COOKIE } from '../../services/notifications/src/readers.ts';
import { sseReader } from '../../services/notifications/test/sseReader.ts';

const scale = () => inject('scale');

async function call<T>(
  appId: string,
  replica: number,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
) {
  const response = await fetch(`${scale().urls[appId]?.[replica]}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as T };
}

/** Places `count` orders at once, every other one through each orderprocessing replica. */
const placeOnBoth = (count: number, order: (n: number) => unknown) =>
  Promise.all(
    Array.from(
      { length: count },
      async (_, n) => (await call<{ id: string }>('orderprocessing', n % 2, '/orders', order(n))).body.id,
    ),
  );

/** What an internal app's own sidecar presents to it (each app has its own token). */
const internal = (appId: string) => ({ 'dapr-api-token': scale().credentials.apps[appId]?.appApiToken ?? '' });

async function finished(id: string): Promise<{ status: string; order_result?: { success: boolean } }> {
  for (let n = 0; n < 150; n++) {
    const order = await call<{ status: string }>('orderprocessing', n % 2, `/orders/${id}`);
    if (['COMPLETED', 'FAILED', 'TERMINATED'].includes(order.body.status)) return order.body;
    await sleep(100);
  }
  throw new Error(`order ${id} did not finish`);
}

describe('two replicas of every app', () => {
  it('place one order per Idempotency-Key when both replicas get it at the same moment', async () => {
    for (let n = 0; n < 8; n++) {
      const order = { customer: `twin${n}`, items: ['milk'], total: 2 };
      const headers = { 'idempotency-key': `twin-${Date.now()}-${n}` };
      const answers = await Promise.all(
        [0, 1].map((replica) => call<{ id: string }>('orderprocessing', replica, '/orders', order, headers)),
      );
      expect(answers.map((answer) => answer.status)).toEqual([202, 202]);
      expect(answers[0]?.body.id).toBe(answers[1]?.body.id);
      const id = answers[0]?.body.id as string;
      expect((await finished(id)).status).toBe('COMPLETED');
      const ledger = await call<{ entries: { kind: string }[] }>(
        'payments',
        n % 2,
        `/payments/${id}`,
        undefined,
        internal('payments'),
      );
      expect(ledger.body.entries.map((entry) => entry.kind)).toEqual(['charge']);
    }
  });

  it('never oversell the last units when two inventory replicas take the orders', async () => {
    const ids = await placeOnBoth(20, (n) => ({ customer: `last${n}`, items: ['oranges'], total: 1 }));
    const ends = await Promise.all(ids.map(finished));
    expect(ends.filter((end) => end.order_result?.success)).toHaveLength(5);
    const stock = await call<{ stock: Record<string, number> }>(
      'inventory',
      1,
      '/inventory',
      undefined,
      internal('inventory'),
    );
    expect(stock.body.stock.oranges).toBe(0);
    const workload = (log: string) =>
      (readFileSync(join(scale().logDir, log), 'utf8').match(/"url":"\/reserve"/g) ?? []).length;
    expect(workload('inventory.log')).toBeGreaterThan(0);
    expect(workload('inventory-2.log')).toBeGreaterThan(0);
  });

  it('run workflows on both orderprocessing replicas (placement spreads them)', async () => {
    const executions = async (replica: number) => {
      const text = await (await fetch(scale().metricsUrls.orderprocessing?.[replica] ?? '')).text();
      return text
        .split('\n')
        .filter((line) => line.startsWith('dapr_runtime_workflow_execution_count'))
        .reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
    };
    expect(await executions(0)).toBeGreaterThan(0);
    expect(await executions(1)).toBeGreaterThan(0);
  });

  it('tell a live page every order, whichever notifications replica stores it', async () => {
    const stop = new AbortController();
    // Signed in as an approver (the page's cookie): the ids come whole, not masked.
    const reader = `${READER_COOKIE}=${encodeURIComponent(scale().credentials.approvers.chris ?? '')}`;
    const response = await fetch(`${scale().urls.notifications?.[0]}/events`, {
      headers: { accept: 'text/event-stream', cookie: reader },
      signal: stop.signal,
    });
    const next = sseReader(response);
    expect((await next()).event).toBe('catchup');
    const ids = await placeOnBoth(8, (n) => ({ customer: `page${n}`, items: ['bread'], total: 2 }));
    const heard = new Map(ids.map((id) => [id, new Set<string>()]));
    const deadline = Date.now() + 15_000;
    while ([...heard.values()].some((kinds) => kinds.size < 4) && Date.now() < deadline) {
      const message = await Promise.race([next(), sleep(deadline - Date.now()).then(() => undefined)]);
      const event = (message?.data as { event?: { orderId: string; kind: string } } | undefined)?.event;
      if (event) heard.get(event.orderId)?.add(event.kind);
    }
    stop.abort();
    for (const [id, kinds] of heard)
      expect([...kinds].sort(), id).toEqual(['paid', 'received', 'shipped', 'stock_reserved']);
    const deliveries = (log: string) =>
      (readFileSync(join(scale().logDir, log), 'utf8').match(/"url":"\/notifications\/bulk"/g) ?? []).length;
    expect(deliveries('notifications.log')).toBeGreaterThan(0);
    expect(deliveries('notifications-2.log')).toBeGreaterThan(0);
  }, 30_000);
});
