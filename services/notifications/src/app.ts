// The notifications service: consumes topic `notifications` into the order projection in the state store
// (each order's timeline and the page's index of recent orders; the order index that orderprocessing reads
// for GET /orders and its watchdog), and shows it on a live page (SSE) with Approve / Reject buttons.

import { fastifySSE } from '@fastify/sse';
import { z } from 'zod';
import { duration, loadConfig } from '#shared/config.ts';
import { DaprHttpClient } from '#shared/dapr.ts';
import { createServiceApp } from '#shared/http.ts';
import { rateLimitSettings, rateLimits } from '#shared/rateLimits.ts';
import { withRetention } from '#shared/retention.ts';
import type { StateClient } from '#shared/state.ts';
import { ReadModelFollower } from './follower.ts';
import { LiveUpdates } from './live.ts';
import { LiveLimits } from './liveLimits.ts';
import { OrderIndex } from './orderIndex/orderIndex.ts';
import { sidecarOrdersApi } from './ordersApi.ts';
import { PROJECTION_PREFIX } from './projectionRoutes.ts';
import { type ReaderCheck, Readers } from './readers.ts';
import { ReadModel, type ReadModelOptions } from './readModel.ts';
import { type OrdersApi, registerRoutes } from './routes.ts';
import { SnapshotCache } from './snapshotCache.ts';
import { SUBSCRIPTION_PATHS } from './subscription.ts';

export const loadNotificationsConfig = (env: NodeJS.ProcessEnv = process.env) =>
  loadConfig(
    {
      /** The app id of the order API that the page's Approve / Reject buttons reach (service invocation). */
      ORDERS_APP_ID: z.string().min(1).default('orderprocessing'),
      /** How often a replica with live clients looks for what other replicas stored (0s: never). */
      LIVE_FOLLOW_INTERVAL: duration.prefault('1s'),
      /** Live connections (SSE) this process holds at once; more get 503. */
      LIVE_MAX_CONNECTIONS: z.coerce.number().int().min(1).default(500),
      /** Live connections one client (request.ip) holds at once; more get 429. */
      LIVE_MAX_CONNECTIONS_PER_CLIENT: z.coerce.number().int().min(1).default(10),
      /**
       * Bytes of live events waiting for a client that does not read (beyond its first snapshot) before it
       * is dropped, to reconnect and catch up. Times LIVE_MAX_CONNECTIONS, what stalled clients can cost.
       */
      LIVE_MAX_BUFFERED_BYTES: z.coerce
        .number()
        .int()
        .min(1024)
        .default(256 * 1024),
      /** How long one read of the snapshot serves the connections that arrive (0s: each reads its own). */
      LIVE_SNAPSHOT_MAX_AGE: duration.prefault('1s'),
      /** How long an ended order's final summary is kept (unset: for good), as its id claim in orderprocessing. */
      ORDER_ID_RETENTION: duration.optional(),
      ...rateLimitSettings,
    },
    env,
  );

export interface NotificationsAppDeps {
  config: ReturnType<typeof loadNotificationsConfig>;
  /** Defaults to the state store behind the sidecar. */
  store?: StateClient;
  /** Defaults to orderprocessing through the sidecar. */
  orders?: OrdersApi;
  readModel?: ReadModelOptions;
  /** The live connections' hub; the tests pass their own to publish into it. */
  live?: LiveUpdates;
  /** Who may see customers' names; defaults to whom orderprocessing lets list orders. */
  readers?: ReaderCheck;
}

export function buildApp({
  config,
  store,
  orders,
  readModel,
  live = new LiveUpdates(),
  readers,
}: NotificationsAppDeps) {
  const app = createServiceApp({
    name: 'notifications',
    logLevel: config.LOG_LEVEL,
    appApiToken: config.APP_API_TOKEN,
    trustProxy: config.TRUST_PROXY,
    // Pub/sub deliveries and orderprocessing's reads of the projection come through the sidecar; the page
    // and its API are public.
    sidecarOnly: (route) =>
      (route.method === 'POST' && SUBSCRIPTION_PATHS.has(route.url)) || route.url.startsWith(PROJECTION_PREFIX),
  });
  const sidecar = DaprHttpClient.forSidecar(config);
  // Each order's keys expire, its final summary is kept as long as its id; the index of recent orders,
  // the running set and the list of days are kept (each is bounded).
  const state = withRetention(store ?? sidecar, [
    ...['timeline:', 'index:marks:', 'index:bucket:', 'index:day:'].map((prefix) => ({
      prefix,
      retentionMs: config.ORDER_RECORD_RETENTION,
    })),
    { prefix: 'index:final:', retentionMs: config.ORDER_ID_RETENTION },
  ]);
  const model = new ReadModel(state, readModel);
  const index = new OrderIndex(state, {
    retentionMs: config.ORDER_RECORD_RETENTION,
    onBackgroundError: (error) => app.log.warn({ err: error }, 'order index: a background write failed'),
  });
  // After the subscription stopped taking deliveries: the removals from the running set still waiting for
  // a ride go out.
  app.addHook('onClose', async () => {
    await index.flush().catch((error: unknown) => {
      app.log.warn({ err: error }, 'order index: running-set removals lost (the watchdog drops stale entries)');
    });
  });
  const follower = new ReadModelFollower(model, state, live, config.LIVE_FOLLOW_INTERVAL, config.LIVE_SNAPSHOT_MAX_AGE);
  app.addHook('onClose', async () => follower.stop());
  const ordersApi = orders ?? sidecarOrdersApi(sidecar, config.ORDERS_APP_ID);

  // The page's API limits its own clients; orderprocessing takes the approvals it passes on unlimited.
  app.register(rateLimits, { state, authFailuresPerMinute: config.RATE_LIMIT_AUTH_FAILURES_PER_MINUTE });
  app.register(fastifySSE, { heartbeatInterval: 15_000 });
  const limits = {
    connections: new LiveLimits({
      maxConnections: config.LIVE_MAX_CONNECTIONS,
      maxPerClient: config.LIVE_MAX_CONNECTIONS_PER_CLIENT,
    }),
    snapshots: new SnapshotCache(() => model.snapshot(), live, config.LIVE_SNAPSHOT_MAX_AGE),
    maxBufferedBytes: config.LIVE_MAX_BUFFERED_BYTES,
    decisionsPerMinute: config.RATE_LIMIT_DECISIONS_PER_MINUTE,
    readsPerMinute: config.RATE_LIMIT_READS_PER_MINUTE,
  };
  const readerCheck = readers ?? new Readers((authorization) => ordersApi.canRead(authorization));
  app.register(async (scoped) =>
    registerRoutes(scoped as typeof app, { model, index, live, orders: ordersApi, limits, readers: readerCheck }),
  );
  return app;
}
