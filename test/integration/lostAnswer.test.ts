// The cause of the chaos run's lost stock (issue #25): a POST /orders whose answer is lost after the
// workflow started (the app or its sidecar killed at that moment), tried again by a client. Without an
// Idempotency-Key the retry is a second order, which reserves stock of its own that no one approves or
// releases. The chaos run's client sends a key, so the retry names the same order. A proxy in front of
// the real orderprocessing drops the first answer, as a kill would.
import { createServer, type Server } from 'node:http';
import { buffer } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChaosClient } from '../chaos/client.ts';
import { credentials, finished, pollUntil, stock, url, waitForOrder } from './client.ts';

let proxy: Server;
let proxyUrl = '';
let dropped = 0;

beforeAll(async () => {
  proxy = createServer(async (request, response) => {
    const sent = await buffer(request);
    const upstream = await fetch(url('orderprocessing', request.url ?? '/'), {
      method: request.method ?? 'GET',
      headers: Object.fromEntries(
        Object.entries(request.headers).filter(([name]) => !['host', 'connection', 'content-length'].includes(name)),
      ) as Record<string, string>,
      body: request.method === 'POST' ? sent : undefined,
    });
    const body = await upstream.text();
    // The first POST reached the app and was acted on; its answer never comes back.
    if (request.method === 'POST' && dropped === 0) {
      dropped += 1;
      request.socket.destroy();
      return;
    }
    response.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'text/plain' });
    response.end(body);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const address = proxy.address();
  proxyUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
});

afterAll(() => new Promise<void>((resolve) => proxy.close(() => resolve())));

describe('a POST /orders whose answer was lost, tried again by the chaos client', () => {
  it('places one order, which takes its stock once', async () => {
    const client = new ChaosClient({
      url: (appId) => (appId === 'orderprocessing' ? proxyUrl : url(appId, '')),
      credentials: credentials(),
      attempts: 5,
    });
    const customer = `lost${Date.now() % 1_000_000}`;
    const before = await stock();

    const answer = await client.placeOrder({ customer, items: ['bread'], total: 2, idempotencyKey: `${customer}-1` });

    expect(answer.status).toBe(202);
    expect(dropped).toBe(1);
    expect(client.retriedPosts).toBe(1);
    await waitForOrder(answer.body.id, finished);
    const listed = await pollUntil(
      `the order index did not list ${answer.body.id}`,
      async () => (await client.listOrders()).filter((order) => order.customer === customer),
      (orders) => orders.length > 0 && orders.every((order) => order.status !== 'RUNNING'),
      10_000,
    );
    expect(listed.map((order) => order.id)).toEqual([answer.body.id]);
    expect((await stock()).bread).toBe((before.bread ?? 0) - 1);
  });
});
