// The shipping service: ships orders, or refuses with 503 while in maintenance mode.

import { nanoid } from 'nanoid';
import { z } from 'zod';
import { loadConfig } from '#shared/config.ts';
import { DaprHttpClient } from '#shared/dapr.ts';
import { createServiceApp, isHealthCheck } from '#shared/http.ts';
import { withRetention } from '#shared/retention.ts';
import type { StateClient } from '#shared/state.ts';
import { ADMIN_PATHS, registerRoutes } from './routes.ts';
import { Shipments } from './shipments.ts';

export const loadShippingConfig = (env: NodeJS.ProcessEnv = process.env) =>
  loadConfig({ ADMIN_TOKEN: z.string().min(16).optional() }, env);

export interface ShippingDeps {
  config: ReturnType<typeof loadShippingConfig>;
  state?: StateClient;
}

export function buildApp({ config, state }: ShippingDeps) {
  const app = createServiceApp({
    name: 'shipping',
    logLevel: config.LOG_LEVEL,
    appApiToken: config.APP_API_TOKEN,
    faults: config.FAULTS,
    // The maintenance toggles are for operators, with the admin token instead.
    sidecarOnly: (route) => !isHealthCheck(route) && !ADMIN_PATHS.has(route.url),
  });
  // Each order's shipment expires; the maintenance flag is kept.
  const dapr = withRetention(state ?? DaprHttpClient.forSidecar(config), [
    { prefix: 'shipment:', retentionMs: config.ORDER_RECORD_RETENTION },
  ]);
  registerRoutes(app, new Shipments(dapr, () => `ship_${nanoid(10)}`), config.ADMIN_TOKEN);
  return app;
}
