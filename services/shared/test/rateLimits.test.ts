// The rate limits' counters in the state store: exact across replicas (two stores on one state), a few
// writes for a burst, a new count each window, and a TTL on every counter.

import { setTimeout as sleep } from 'node:timers/promises';
import rateLimit from '@fastify/rate-limit';
import { afterEach, describe, expect, it } from 'vitest';
import { createServiceApp } from '../src/http.ts';
import { sharedRateLimitStore } from '../src/rateLimits.ts';
import { FakeState, yieldToOthers } from './fakeState.ts';

/** What one `incr` of a store answers, as a promise. */
function incr(store: InstanceType<ReturnType<typeof sharedRateLimitStore>>, client: string, windowMs = 60_000) {
  return new Promise<number>((resolve, reject) =>
    store.incr(client, (error, result) => (error ? reject(error) : resolve(result?.current ?? -1)), windowMs),
  );
}

const storeOn = (state: FakeState, groupId = 'orders') => new (sharedRateLimitStore(state))({ groupId });

describe('the shared rate-limit store', () => {
  it('counts a burst of one client exactly, in a few writes', async () => {
    const state = new FakeState();
    state.beforeSave = yieldToOthers;
    const store = storeOn(state);
    const counts = await Promise.all(Array.from({ length: 50 }, () => incr(store, '203.0.113.7')));
    expect([...counts].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, n) => n + 1));
    expect(state.writes).toBeLessThanOrEqual(3);
    const [key] = state.keys();
    expect(key).toMatch(/^ratelimit:orders:203\.0\.113\.7:\d+$/);
    expect(state.peek(key as string)).toBe(50);
    expect(state.ttlOf(key as string)).toBe(120);
  });

  it('is exact across replicas: two stores on one state count one sequence, none twice', async () => {
    const state = new FakeState();
    state.beforeSave = yieldToOthers;
    const [first, second] = [storeOn(state), storeOn(state)];
    const counts = await Promise.all(
      Array.from({ length: 80 }, (_, n) => incr(n % 2 === 0 ? first : second, '203.0.113.7')),
    );
    expect([...counts].sort((a, b) => a - b)).toEqual(Array.from({ length: 80 }, (_, n) => n + 1));
    expect(state.conflicts).toBeGreaterThan(0); // the replicas did race
  });

  it('keeps clients and groups apart, and starts again each window', async () => {
    const state = new FakeState();
    const store = storeOn(state);
    expect(await incr(store, 'a', 200)).toBe(1);
    expect(await incr(store, 'a', 200)).toBe(2);
    expect(await incr(store, 'b', 200)).toBe(1);
    expect(await incr(storeOn(state, 'decisions'), 'a', 200)).toBe(1);
    await sleep(210);
    expect(await incr(store, 'a', 200)).toBe(1);
  });
});

describe('a route limited through it', () => {
  const apps: { close(): Promise<unknown> }[] = [];
  afterEach(async () => {
    for (const app of apps.splice(0)) await app.close();
  });

  /** A replica of a service whose POST /orders allows 5 a minute, counted in `state`. */
  function replica(state: FakeState) {
    const app = createServiceApp({ name: 'test', logLevel: 'silent', trustProxy: ['127.0.0.1'] });
    app.register(rateLimit, { global: false, store: sharedRateLimitStore(state) });
    app.register(async (scoped) => {
      scoped.post('/orders', { config: { rateLimit: { max: 5, timeWindow: '1 minute' } } }, async () => ({ ok: 1 }));
    });
    apps.push(app);
    return app;
  }

  it('allows a client the limit once across two replicas, and tells clients apart by X-Forwarded-For', async () => {
    const state = new FakeState();
    const [first, second] = [replica(state), replica(state)];
    await Promise.all([first.ready(), second.ready()]);
    const post = (app: ReturnType<typeof replica>, client: string) =>
      app.inject({
        method: 'POST',
        url: '/orders',
        headers: { 'x-forwarded-for': client },
        remoteAddress: '127.0.0.1',
      });
    const statuses = await Promise.all(
      Array.from({ length: 12 }, (_, n) => post(n % 2 ? first : second, '198.51.100.1').then((a) => a.statusCode)),
    );
    expect(statuses.filter((status) => status === 200)).toHaveLength(5);
    expect(statuses.filter((status) => status === 429)).toHaveLength(7);
    expect((await post(first, '198.51.100.2')).statusCode).toBe(200);
  });
});
