// The payments service: charges and refunds per order, recorded in a ledger in the state store.
import { loadConfig } from '#shared/config.ts';
import { DaprHttpClient } from '#shared/dapr.ts';
import { createServiceApp, isHealthCheck } from '#shared/http.ts';
import type { StateClient } from '#shared/state.ts';
import { Ledger } from './ledger.ts';
import { registerRoutes } from './routes.ts';

export const loadPaymentsConfig = (env: NodeJS.ProcessEnv = process.env) => loadConfig({}, env);

export interface PaymentsDeps {
  config: ReturnType<typeof loadPaymentsConfig>;
  state?: StateClient;
}

export function buildApp({ config, state }: PaymentsDeps) {
  const app = createServiceApp({
    name: 'payments',
    logLevel: config.LOG_LEVEL,
    appApiToken: config.APP_API_TOKEN,
    sidecarOnly: (request) => !isHealthCheck(request),
  });
  const dapr = state ?? DaprHttpClient.forSidecar(config);
  registerRoutes(app, new Ledger(dapr));
  return app;
}
