// The shipping service: ships orders, or refuses with 503 while in maintenance mode.

import { nanoid } from 'nanoid';
import { loadConfig } from '#shared/config.ts';
import { DaprHttpClient } from '#shared/dapr.ts';
import { createServiceApp } from '#shared/http.ts';
import type { StateClient } from '#shared/state.ts';
import { registerRoutes } from './routes.ts';
import { Shipments } from './shipments.ts';

export const loadShippingConfig = (env: NodeJS.ProcessEnv = process.env) => loadConfig({}, env);

export interface ShippingDeps {
  config: ReturnType<typeof loadShippingConfig>;
  state?: StateClient;
}

export function buildApp({ config, state }: ShippingDeps) {
  const app = createServiceApp({ name: 'shipping', logLevel: config.LOG_LEVEL });
  const dapr = state ?? new DaprHttpClient({ host: config.DAPR_HOST, httpPort: config.DAPR_HTTP_PORT });
  registerRoutes(app, new Shipments(dapr, () => `ship_${nanoid(10)}`));
  return app;
}
