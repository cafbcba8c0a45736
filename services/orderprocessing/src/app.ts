// The orderprocessing service: the public order API, and the worker that runs the order workflows.
// This file only composes: Fastify's own plugins, then ours (each owns its start and close), then routes.
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { jsonSchemaTransform } from 'fastify-type-provider-zod';
import { parseApprovers, presentsAppToken } from '#shared/auth.ts';
import { DaprHttpClient } from '#shared/dapr.ts';
import { createServiceApp } from '#shared/http.ts';
import { rateLimits } from '#shared/rateLimits.ts';
import { withRetention } from '#shared/retention.ts';
import type { StateClient } from '#shared/state.ts';
import { loadOrderConfig, type OrderConfig } from './config.ts';
import type { WorkflowGateway } from './engine.ts';
import type { OrderProjection } from './orderProjection.ts';
import enginePlugin from './plugins/engine.ts';
import orderProjectionPlugin from './plugins/orderProjection.ts';
import orderServicePlugin from './plugins/orderService.ts';
import watchdogPlugin from './plugins/watchdog.ts';
import listRoute from './routes/list.ts';
import meRoute from './routes/me.ts';
import orderRoutes from './routes/orders.ts';

export { loadOrderConfig, type OrderConfig };

export interface OrderAppDeps {
  config: OrderConfig;
  /** The workflow engine; defaults to Dapr's behind the sidecar, with this app as its worker. */
  engine?: WorkflowGateway;
  /** This app's state store (id claims, decisions, the watchdog's claims); defaults to the sidecar's. */
  store?: StateClient;
  /** The order projection (GET /orders, the watchdog); defaults to notifications' through the sidecar. */
  projection?: OrderProjection;
}

export function buildApp({ config, engine, store, projection }: OrderAppDeps) {
  const app = createServiceApp({
    name: 'orderprocessing',
    logLevel: config.LOG_LEVEL,
    appApiToken: config.APP_API_TOKEN,
    trustProxy: config.TRUST_PROXY,
  });
  const sidecar = DaprHttpClient.forSidecar(config);
  const approvers = parseApprovers(config.APPROVER_TOKENS);

  app.register(swagger, {
    openapi: {
      info: { title: 'Orders API', version: '1.0.0', description: 'Durable order processing on Dapr Workflow' },
      components: { securitySchemes: { approver: { type: 'http', scheme: 'bearer' } } },
    },
    transform: jsonSchemaTransform,
  });
  app.register(swaggerUi, { routePrefix: '/docs', staticCSP: true });

  // What is kept of each order: its id claim for good, the rest for a while.
  const state = withRetention(store ?? sidecar, [
    ...['watchdog:', 'decision:'].map((prefix) => ({
      prefix,
      retentionMs: config.ORDER_RECORD_RETENTION,
    })),
    { prefix: 'order-id:', retentionMs: config.ORDER_ID_RETENTION },
  ]);
  app.register(rateLimits, {
    state: store ?? sidecar,
    authFailuresPerMinute: config.RATE_LIMIT_AUTH_FAILURES_PER_MINUTE,
    exempt: (request) => presentsAppToken(request.headers, config.APP_API_TOKEN),
  });
  app.register(orderProjectionPlugin, { store: state, sidecar, projection, appId: 'notifications' });
  app.register(enginePlugin, { config, sidecar, gateway: engine });
  app.register(watchdogPlugin, { config, sidecar, store: state });
  app.register(orderServicePlugin, { config, store: state });

  app.register(orderRoutes, {
    approvers,
    adminToken: config.ADMIN_TOKEN,
    limits: {
      orders: config.RATE_LIMIT_ORDERS_PER_MINUTE,
      decisions: config.RATE_LIMIT_DECISIONS_PER_MINUTE,
      reads: config.RATE_LIMIT_READS_PER_MINUTE,
    },
    publicUrl: config.PUBLIC_URL ?? `http://localhost:${config.APP_PORT}`,
    zipkinUrl: config.ZIPKIN_URL,
  });
  app.register(meRoute, {
    approvers,
    adminToken: config.ADMIN_TOKEN,
    readsPerMinute: config.RATE_LIMIT_READS_PER_MINUTE,
  });
  app.register(listRoute, {
    approvers,
    adminToken: config.ADMIN_TOKEN,
    readsPerMinute: config.RATE_LIMIT_READS_PER_MINUTE,
  });
  return app;
}
