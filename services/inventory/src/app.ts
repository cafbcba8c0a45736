// The inventory service: stock per item in the state store, reserved and released per order.

import { z } from 'zod';
import { loadConfig } from '#shared/config.ts';
import { DaprHttpClient } from '#shared/dapr.ts';
import { createServiceApp, isHealthCheck } from '#shared/http.ts';
import { withRetention } from '#shared/retention.ts';
import type { StateClient } from '#shared/state.ts';
import { registerRoutes } from './routes.ts';
import { parseStock, Stock, type StockCounts } from './stock.ts';

export const DEFAULT_STOCK: StockCounts = { milk: 100, bread: 100, apples: 100, oranges: 100, iPhone: 20 };

export const loadInventoryConfig = (env: NodeJS.ProcessEnv = process.env) =>
  loadConfig({ INVENTORY_STOCK: z.string().optional() }, env);

export interface InventoryDeps {
  config: ReturnType<typeof loadInventoryConfig>;
  /** Defaults to the sidecar's HTTP API; unit tests pass an in-memory store. */
  state?: StateClient;
}

export function buildApp({ config, state }: InventoryDeps) {
  const app = createServiceApp({
    name: 'inventory',
    logLevel: config.LOG_LEVEL,
    appApiToken: config.APP_API_TOKEN,
    faults: config.FAULTS,
    sidecarOnly: (route) => !isHealthCheck(route),
  });
  // Each order's reservation record expires; the stock document is kept.
  const dapr = withRetention(state ?? DaprHttpClient.forSidecar(config), [
    { prefix: 'reservation:', retentionMs: config.ORDER_RECORD_RETENTION },
  ]);
  const stock = new Stock(dapr, parseStock(config.INVENTORY_STOCK, DEFAULT_STOCK));
  app.addHook('onListen', () => {
    stock.initialise().catch((error: unknown) => app.log.warn({ err: error }, 'initial stock not written yet'));
  });
  // Marks still being cleared in the background finish before the process goes.
  app.addHook('onClose', () => stock.settled());
  registerRoutes(app, stock);
  return app;
}
