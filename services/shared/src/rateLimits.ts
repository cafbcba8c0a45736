// Rate limits counted in the state store, so that N replicas of a service allow a client the limit once,
// not N times. Fixed windows: `ratelimit:<group>:<client>:<window>` counts a window's requests and expires
// with it. A replica writes each counter once at a time: the increments that arrive meanwhile go into its
// next write together, so a burst from one client costs a few ETag-checked writes, not one each.
import rateLimit, { type RateLimitPluginOptions } from '@fastify/rate-limit';
import type { FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { z } from 'zod';
import { TooManyRequests } from './errors.ts';
import { withRetention } from './retention.ts';
import { type StateClient, updateState } from './state.ts';

interface StoreOptions {
  groupId?: string;
  routeInfo?: { method?: string | string[]; url?: string };
}

type Answer = (error: Error | null, result?: { current: number; ttl: number }) => void;

/** Counts under one state key: the adds that wait for the write in flight share the next one. */
class BatchedCounter {
  private waiting: ((base: number) => void)[] = [];
  private failing: ((error: Error) => void)[] = [];
  private writing = false;

  private readonly state: StateClient;

  constructor(
    state: StateClient,
    private readonly key: string,
    windowMs: number,
    private readonly onIdle: () => void,
  ) {
    // The counter outlives its window by one more, for a replica whose clock runs a little behind.
    this.state = withRetention(state, [{ prefix: key, retentionMs: 2 * windowMs }]);
  }

  /** Adds one; resolves with the count this add made (1 for the window's first request). */
  add(): Promise<number> {
    return new Promise((resolve, reject) => {
      const position = this.waiting.length;
      this.waiting.push((base) => resolve(base + position + 1));
      this.failing.push(reject);
      if (!this.writing) void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.writing = true;
    while (this.waiting.length > 0) {
      const [resolvers, rejecters] = [this.waiting, this.failing];
      [this.waiting, this.failing] = [[], []];
      try {
        const base = await updateState<number, number>(this.state, this.key, (current = 0) => ({
          next: current + resolvers.length,
          result: current,
        }));
        for (const resolve of resolvers) resolve(base);
      } catch (error) {
        for (const reject of rejecters) reject(error as Error);
      }
    }
    this.writing = false;
    this.onIdle();
  }
}

/**
 * A store for @fastify/rate-limit (its `store` option): the plugin makes one, and a child per route with
 * its own limit; routes with the same `groupId` share their counters.
 */
export function sharedRateLimitStore(state: StateClient) {
  const counters = new Map<string, BatchedCounter>();

  // Holds the group's name; the plugin constructs the store itself, with its options.
  return class SharedRateLimitStore {
    private readonly group: string;

    // The plugin passes its merged options (typed loosely there): a route's own, with the route itself.
    constructor(options: unknown) {
      const { groupId, routeInfo } = (options ?? {}) as StoreOptions;
      this.group = groupId ?? (routeInfo?.url ? `${routeInfo.method} ${routeInfo.url}` : 'global');
    }

    /** The counter's key for the window `now` falls in, and the time left in that window. */
    private where(client: string, timeWindow: number) {
      const now = Date.now();
      const window = Math.floor(now / timeWindow);
      // The plugin appends a route's groupId to the client's key; the group is in our key already.
      const who = client.endsWith(this.group) ? client.slice(0, -this.group.length) : client;
      return { key: `ratelimit:${this.group}:${who}:${window}`, ttl: (window + 1) * timeWindow - now };
    }

    incr(client: string, answer: Answer, timeWindow: number): void {
      const { key, ttl } = this.where(client, timeWindow);
      let counter = counters.get(key);
      if (!counter) {
        counter = new BatchedCounter(state, key, timeWindow, () => counters.delete(key));
        counters.set(key, counter);
      }
      counter.add().then(
        (current) => answer(null, { current, ttl }),
        (error: Error) => answer(error),
      );
    }

    /** The count so far, without adding to it (for limits checked before a request and counted after). */
    read(client: string, answer: Answer, timeWindow: number): void {
      const { key, ttl } = this.where(client, timeWindow);
      state.getState<number>(key).then(
        ({ value }) => answer(null, { current: value ?? 0, ttl }),
        (error: Error) => answer(error),
      );
    }

    child(options: unknown) {
      return new SharedRateLimitStore(options);
    }
  } satisfies NonNullable<RateLimitPluginOptions['store']>;
}

/** The limits of the services that take requests from outside (their config's keys, with defaults). */
export const rateLimitSettings = {
  /** Approvals, rejections, cancellations and purges per client and minute. */
  RATE_LIMIT_DECISIONS_PER_MINUTE: z.coerce.number().int().min(1).default(60),
  /** Reads of orders (one, or a list) per client and minute. */
  RATE_LIMIT_READS_PER_MINUTE: z.coerce.number().int().min(1).default(1200),
  /** 401 answers per client and minute; then its requests with credentials get 429 for the rest of it. */
  RATE_LIMIT_AUTH_FAILURES_PER_MINUTE: z.coerce.number().int().min(1).default(20),
};

export interface RateLimitsOptions {
  /** Where the counters live: the state store, shared by the service's replicas. */
  state: StateClient;
  /** 401 answers a client may get in a minute; then its requests with credentials get 429 until the minute ends. */
  authFailuresPerMinute: number;
  /**
   * Requests no limit applies to: those our sidecar passes on from another of our services (the page's
   * approvals), which limits its own clients. Counted here, they would all share one client, the sidecar.
   */
  exempt?: (request: FastifyRequest) => boolean;
}

/** A route's limit (its `config`): `perMinute` requests per client, counted with the group's other routes. */
export const limit = (groupId: string, perMinute: number) => ({
  rateLimit: { groupId, max: perMinute, timeWindow: '1 minute' },
});

/**
 * The service's rate limits, counted across its replicas. A limit the state store cannot count lets the
 * request through rather than failing it. A client that keeps presenting wrong credentials (a token
 * guessed) is stopped after `authFailuresPerMinute` 401s: its next tries get 429 without being checked.
 */
export const rateLimits = fp<RateLimitsOptions>(
  async (app, { state, authFailuresPerMinute, exempt = () => false }) => {
    const Store = sharedRateLimitStore(state);
    await app.register(rateLimit, {
      global: false,
      store: Store,
      skipOnError: true,
      allowList: (request) => exempt(request),
    });

    const failures = new Store({ groupId: 'auth-failures' });
    const WINDOW = 60_000;
    const counted = (method: 'read' | 'incr', client: string) =>
      new Promise<{ current: number; ttl: number }>((resolve, reject) =>
        failures[method](client, (error, result) => (error || !result ? reject(error) : resolve(result)), WINDOW),
      );
    app.addHook('onRequest', async (request, reply) => {
      if (request.headers.authorization === undefined || exempt(request)) return;
      const { current, ttl } = await counted('read', request.ip).catch(() => ({ current: 0, ttl: 0 }));
      if (current < authFailuresPerMinute) return;
      const seconds = Math.ceil(ttl / 1000);
      reply.header('retry-after', seconds);
      throw new TooManyRequests(`too many refused credentials from this client; try again in ${seconds} s`);
    });
    app.addHook('onResponse', async (request, reply) => {
      if (reply.statusCode === 401 && !exempt(request)) await counted('incr', request.ip).catch(() => undefined);
    });
  },
  { name: 'rate-limits' },
);
