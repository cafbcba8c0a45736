// The notifications service: consumes topic `notifications` into an order timeline read model in the
// state store, and shows it on a live page (SSE) with Approve / Reject buttons for the orders that wait.

import { fastifySSE } from '@fastify/sse';
import { z } from 'zod';
import { duration, loadConfig } from '#shared/config.ts';
import { DaprHttpClient } from '#shared/dapr.ts';
import { createServiceApp } from '#shared/http.ts';
import { withRetention } from '#shared/retention.ts';
import type { StateClient } from '#shared/state.ts';
import { ReadModelFollower } from './follower.ts';
import { LiveUpdates } from './live.ts';
import { sidecarOrdersApi } from './ordersApi.ts';
import { ReadModel, type ReadModelOptions } from './readModel.ts';
import { type OrdersApi, registerRoutes } from './routes.ts';
import { SUBSCRIPTION_PATHS } from './subscription.ts';

export const loadNotificationsConfig = (env: NodeJS.ProcessEnv = process.env) =>
  loadConfig(
    {
      /** The app id of the order API that the page's Approve / Reject buttons reach (service invocation). */
      ORDERS_APP_ID: z.string().min(1).default('orderprocessing'),
      /** How often a replica with live clients looks for what other replicas stored (0s: never). */
      LIVE_FOLLOW_INTERVAL: duration.prefault('1s'),
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
}

export function buildApp({ config, store, orders, readModel }: NotificationsAppDeps) {
  const app = createServiceApp({
    name: 'notifications',
    logLevel: config.LOG_LEVEL,
    appApiToken: config.APP_API_TOKEN,
    trustProxy: config.TRUST_PROXY,
    // Only pub/sub deliveries come through the sidecar; the page and its API are public.
    sidecarOnly: (route) => route.method === 'POST' && SUBSCRIPTION_PATHS.has(route.url),
  });
  const sidecar = DaprHttpClient.forSidecar(config);
  // Each order's timeline expires; the index of recent orders is kept (it is bounded).
  const state = withRetention(store ?? sidecar, [{ prefix: 'timeline:', retentionMs: config.ORDER_RECORD_RETENTION }]);
  const model = new ReadModel(state, readModel);
  const live = new LiveUpdates();
  const follower = new ReadModelFollower(model, state, live, config.LIVE_FOLLOW_INTERVAL);
  app.addHook('onClose', async () => follower.stop());
  const ordersApi = orders ?? sidecarOrdersApi(sidecar, config.ORDERS_APP_ID);

  app.register(fastifySSE, { heartbeatInterval: 15_000 });
  app.register(async (scoped) => registerRoutes(scoped as typeof app, { model, live, orders: ordersApi }));
  return app;
}
