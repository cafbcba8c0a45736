// The payments service: charges and refunds per order, recorded in a ledger in the state store.
import { duration, loadConfig } from '#shared/config.ts';
import { DaprHttpClient } from '#shared/dapr.ts';
import { createServiceApp, isHealthCheck } from '#shared/http.ts';
import { withRetention } from '#shared/retention.ts';
import type { StateClient } from '#shared/state.ts';
import { Ledger } from './ledger.ts';
import { registerRoutes } from './routes.ts';

export const loadPaymentsConfig = (env: NodeJS.ProcessEnv = process.env) =>
  loadConfig(
    { /** How long each order's ledger is kept (unset: for good). */ LEDGER_RETENTION: duration.optional() },
    env,
  );

export interface PaymentsDeps {
  config: ReturnType<typeof loadPaymentsConfig>;
  state?: StateClient;
}

export function buildApp({ config, state }: PaymentsDeps) {
  const app = createServiceApp({
    name: 'payments',
    logLevel: config.LOG_LEVEL,
    appApiToken: config.APP_API_TOKEN,
    faults: config.FAULTS,
    sidecarOnly: (route) => !isHealthCheck(route),
  });
  // The ledger is a financial record: kept unless LEDGER_RETENTION says otherwise.
  const dapr = withRetention(state ?? DaprHttpClient.forSidecar(config), [
    { prefix: 'ledger:', retentionMs: config.LEDGER_RETENTION },
  ]);
  registerRoutes(app, new Ledger(dapr));
  return app;
}
