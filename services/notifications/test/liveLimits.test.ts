// The live page under pressure (issue #20): connections capped overall and per client, a client that
// stops reading dropped before its backlog grows, and one snapshot read for a burst of connections. Real
// sockets to a listening app; the store is a fake.
import { type ClientRequest, type IncomingMessage, request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeState } from '../../shared/test/fakeState.ts';
import { buildApp, loadNotificationsConfig } from '../src/app.ts';
import { type LiveMessage, LiveUpdates } from '../src/live.ts';
import { INDEX_KEY } from '../src/readModel.ts';
import { note, ORDER } from './bulk.ts';
import { everyoneReads } from './everyoneReads.ts';

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const close of cleanup.splice(0).reverse()) await close();
});

async function listening(env: Record<string, string> = {}, store = new FakeState()) {
  const config = loadNotificationsConfig({ APP_PORT: '3001', LOG_LEVEL: 'silent', LIVE_FOLLOW_INTERVAL: '0s', ...env });
  const live = new LiveUpdates();
  const app = buildApp({ config, store, live, readers: everyoneReads });
  cleanup.push(() => app.close());
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as { port: number };
  return { app, live, store, port };
}

/** GET /events from a loopback address of its own (127.0.0.0/8 is all loopback on Linux): one client each. */
function openEvents(port: number, from: string, headers: Record<string, string> = {}) {
  type Opened = { response: IncomingMessage; text: () => string; body: () => Promise<string>; req: ClientRequest };
  return new Promise<Opened>((resolve, reject) => {
    const req = request({
      host: '127.0.0.1',
      port,
      path: '/events',
      localAddress: from,
      agent: false,
      headers: { accept: 'text/event-stream', ...headers },
    });
    cleanup.push(() => {
      req.on('error', () => {}); // a request still waiting for its answer fails as it is torn down
      req.destroy();
    });
    req.on('error', reject);
    req.on('response', (response) => {
      let text = '';
      response.setEncoding('utf8');
      const ended = new Promise<string>((done) => response.on('end', () => done(text)));
      response.on('data', (chunk: string) => {
        text += chunk;
      });
      resolve({ response, text: () => text, body: () => ended, req });
    });
    req.end();
  });
}

const until = async (what: string, done: () => boolean, timeoutMs = 5_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`${what} within ${timeoutMs} ms`);
    await sleep(10);
  }
};

describe('GET /events: connection caps', () => {
  it('answers 429 past the cap per client and 503 past the cap overall, with Retry-After; a closed one frees its slot', async () => {
    const { port, live } = await listening({ LIVE_MAX_CONNECTIONS: '4', LIVE_MAX_CONNECTIONS_PER_CLIENT: '2' });

    const a1 = await openEvents(port, '127.0.0.2');
    const a2 = await openEvents(port, '127.0.0.2');
    expect([a1.response.statusCode, a2.response.statusCode]).toEqual([200, 200]);
    const a3 = await openEvents(port, '127.0.0.2');
    expect(a3.response.statusCode).toBe(429);
    expect(a3.response.headers['retry-after']).toBe('10');
    expect(a3.response.headers['content-type']).toMatch(/^application\/json/);
    expect(JSON.parse(await a3.body())).toEqual({
      statusCode: 429,
      message: expect.stringMatching(/too many live connections from this client \(at most 2\)/),
    });

    // Another client may still open its own, until the process holds 4.
    const b1 = await openEvents(port, '127.0.0.3');
    const b2 = await openEvents(port, '127.0.0.3');
    expect([b1.response.statusCode, b2.response.statusCode]).toEqual([200, 200]);
    const c1 = await openEvents(port, '127.0.0.4');
    expect(c1.response.statusCode).toBe(503);
    expect(c1.response.headers['retry-after']).toBe('10');
    expect(JSON.parse(await c1.body()).message).toMatch(/as many connections as it can serve/);
    expect(live.size).toBe(4);

    // A connection that ends gives its slot back, to its client and overall.
    a1.req.destroy();
    await until('the closed connection was not released', () => live.size === 3);
    expect((await openEvents(port, '127.0.0.4')).response.statusCode).toBe(200);
    expect((await openEvents(port, '127.0.0.2')).response.statusCode).toBe(503);
  });
});

/** A notification of `size` bytes or so, as if stored: published straight to the live connections. */
const bulky = (n: number, size: number): LiveMessage => {
  const event = { ...note('paid', ORDER, 1), text: 'x'.repeat(size), at: 1_700_000_000_000 + n };
  return { event, order: { orderId: ORDER, state: 'paid', createdAt: event.time, updatedAt: event.at, version: n } };
};

describe('GET /events: a client that stops reading', () => {
  it('is dropped once it leaves more than LIVE_MAX_BUFFERED_BYTES unread; memory stays bounded, a reading client keeps up', async () => {
    const { app, port, live } = await listening({ LIVE_MAX_BUFFERED_BYTES: String(256 * 1024) });
    // What the process holds for the stalled client: its socket's unsent bytes, on the server's side.
    let stalledOnServer: Socket | undefined;
    app.server.on('connection', (socket: Socket) => {
      if (socket.remoteAddress === '127.0.0.5') stalledOnServer = socket;
    });
    let heldForStalled = 0;

    // The client that never reads: it sends its request and stops reading its socket.
    const stalled: Socket = connect({ host: '127.0.0.1', port, localAddress: '127.0.0.5' });
    cleanup.push(() => stalled.destroy());
    stalled.write('GET /events HTTP/1.1\r\nhost: localhost\r\naccept: text/event-stream\r\n\r\n');
    stalled.pause();
    // A client that reads everything, at its own pace.
    const reader = await openEvents(port, '127.0.0.6');
    let received = 0;
    reader.response.removeAllListeners('data'); // counts only, keeps nothing
    reader.response.on('data', (chunk: string) => {
      received += chunk.length;
    });
    await until('both clients were not connected', () => live.size === 2);

    // 64 MiB of notifications, 64 KiB each, each followed by a pause in which a reading client reads.
    const size = 64 * 1024;
    let droppedAfter: number | undefined;
    for (let n = 1; n <= 1024; n++) {
      live.publish(bulky(n, size));
      if (droppedAfter === undefined && live.size === 1) droppedAfter = n;
      await sleep(0);
      heldForStalled = Math.max(heldForStalled, stalledOnServer?.writableLength ?? 0);
    }
    // Dropped once the kernel's buffers and then 256 KiB of the process's were full: far fewer than 64 MiB.
    // The process never held more than the bound and a notification for it (RSS is too noisy to tell:
    // the reader's garbage alone moves it by tens of MiB). Without the bound it holds all 64 MiB.
    expect(heldForStalled).toBeGreaterThan(0);
    expect(heldForStalled).toBeLessThanOrEqual(256 * 1024 + 2 * size);
    expect(droppedAfter).toBeDefined();
    expect((droppedAfter ?? 0) * size).toBeLessThan(16 * 1024 * 1024);
    expect(live.size).toBe(1);
    await until('the reading client did not get every notification', () => received > 1024 * size);
  });
});

/** A client that reads the start of its answer (headers and catchup), then stops reading its socket. */
async function stalledClient(port: number, from: string) {
  const socket: Socket = connect({ host: '127.0.0.1', port, localAddress: from });
  cleanup.push(() => socket.destroy());
  socket.on('error', () => {});
  socket.write('GET /events HTTP/1.1\r\nhost: localhost\r\naccept: text/event-stream\r\n\r\n');
  let start = '';
  socket.setEncoding('utf8');
  await new Promise<void>((resolve) => {
    const onData = (chunk: string) => {
      start += chunk;
      if (!/\nid: \d+\n[\s\S]*\n\n/.test(start)) return;
      socket.off('data', onData);
      socket.pause();
      resolve();
    };
    socket.on('data', onData);
  });
  return { socket, lastEventId: /\nid: (\d+)\n/.exec(start)?.[1] ?? '' };
}

describe('GET /events: a dropped client catches up, and a stalled one does not hold up a shutdown', () => {
  it('reconnecting with Last-Event-ID, it gets every notification stored since it stopped reading', async () => {
    const { app, live, port } = await listening();
    const stalled = await stalledClient(port, '127.0.0.9');
    // 5.7 MB of stored notifications, one order each (60 KB of text, which the schema allows), all of
    // them in the index (it keeps 100).
    const orders = Array.from({ length: 95 }, (_, n) => `order_bulky_${String(n).padStart(5, '0')}`);
    for (const [n, orderId] of orders.entries()) {
      const notification = { ...note('received', orderId, 1), text: 'x'.repeat(60_000) };
      expect((await app.inject(deliver(notification, `ce-${n}`))).statusCode).toBe(200);
    }
    expect(live.size).toBe(0); // dropped

    const again = await openEvents(port, '127.0.0.9', { 'last-event-id': stalled.lastEventId });
    await until('no catchup came', () => again.text().includes('\n\n'));
    const catchup = JSON.parse(/^data: (.*)$/m.exec(again.text())?.[1] ?? 'null');
    expect(catchup.full).toBe(false);
    expect(catchup.events.map((event: { orderId: string }) => event.orderId)).toEqual(orders);
  });

  it('the service closes within a second while a client reads nothing of what it was sent', async () => {
    // A bound larger than what is sent: the client stays, with its socket full. Its stream is ended, and
    // Fastify's close destroys the connection, idle once its response ended.
    const { app, live, port } = await listening({ LIVE_MAX_BUFFERED_BYTES: String(64 * 1024 * 1024) });
    await stalledClient(port, '127.0.0.10');
    for (let n = 1; n <= 128; n++) live.publish(bulky(n, 64 * 1024));
    expect(live.size).toBe(1);
    const started = Date.now();
    await app.close();
    expect(Date.now() - started).toBeLessThan(1000);
  });
});

describe('GET /events: the snapshot', () => {
  /**
   * Counts the reads of the index of recent orders, which every snapshot starts with. With `hold`, the
   * first read of a timeline answers what the store held when it was asked, once `hold` resolves: a slow
   * snapshot read that began before a later update.
   */
  const countingIndexReads = (store: FakeState, hold?: Promise<void>) => {
    const reads = { count: 0 };
    const getState = store.getState.bind(store);
    let held = false;
    store.getState = async <T>(key: string) => {
      if (key === INDEX_KEY) reads.count++;
      const value = await getState<T>(key);
      if (hold && !held && key.startsWith('timeline:')) {
        held = true;
        await hold;
      }
      return value;
    };
    return reads;
  };

  const firstEvent = async (port: number, from: string) => {
    const stream = await openEvents(port, from);
    await until('no catchup came', () => stream.text().includes('\n\n'));
    const data = /^data: (.*)$/m.exec(stream.text())?.[1] ?? 'null';
    return { catchup: JSON.parse(data) as { full: boolean; events: { id: string }[] }, text: stream.text };
  };

  it('is read once for a burst of connections', async () => {
    const store = new FakeState();
    const { app, port } = await listening({ LIVE_MAX_CONNECTIONS_PER_CLIENT: '50' }, store);
    await app.inject(deliver(note('received')));
    const reads = countingIndexReads(store);

    const burst = await Promise.all(Array.from({ length: 40 }, () => firstEvent(port, '127.0.0.7')));
    expect(burst.map(({ catchup }) => catchup.events.map((event) => event.id))).toEqual(
      Array(40).fill([`${ORDER}:received`]),
    );
    expect(reads.count).toBe(1);
  });

  it('loses no update: a connection after an update sees it, also while an older read is under way', async () => {
    const store = new FakeState();
    const { app, port } = await listening({ LIVE_MAX_CONNECTIONS_PER_CLIENT: '50' }, store);
    await app.inject(deliver(note('received')));
    let release = () => {};
    const reads = countingIndexReads(store, new Promise<void>((resolve) => (release = resolve)));

    // The first connection's snapshot read is held up; an update is stored and published meanwhile.
    const first = firstEvent(port, '127.0.0.8');
    await until('the first read did not start', () => reads.count === 1);
    await sleep(50);
    expect((await app.inject(deliver(note('stock_reserved', ORDER, 2), 'ce-2'))).statusCode).toBe(200);

    // A connection after the update does not get the older read: it reads again, and sees the update.
    const second = firstEvent(port, '127.0.0.8');
    await sleep(200);
    release();
    expect((await second).catchup.events.map((event) => event.id)).toContain(`${ORDER}:stock_reserved`);
    // The first one's snapshot may lack it, but it heard the update live, after its snapshot.
    const { text } = await first;
    await until('the first connection did not hear the update', () => text().includes(`${ORDER}:stock_reserved`));

    // Within its second, the newer snapshot serves the next connections without reading again.
    const readsSoFar = reads.count;
    const third = await firstEvent(port, '127.0.0.8');
    expect(third.catchup.events.map((event) => event.id)).toContain(`${ORDER}:stock_reserved`);
    expect(reads.count).toBe(readsSoFar);
  });
});

/** A CloudEvent carrying `data`, as the sidecar posts it to the subscription route. */
function deliver(data: unknown, id = 'ce-1') {
  return {
    method: 'POST' as const,
    url: '/notifications',
    headers: { 'content-type': 'application/cloudevents+json' },
    payload: JSON.stringify({ id, specversion: '1.0', type: 'com.dapr.event.sent', source: 'orderprocessing', data }),
  };
}
