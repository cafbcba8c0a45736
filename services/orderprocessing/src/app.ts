// The orderprocessing service: the public order API, and the worker that runs the order workflows.

import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { jsonSchemaTransform } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { parseApprovers } from '#shared/auth.ts';
import { duration, loadConfig } from '#shared/config.ts';
import { DaprHttpClient, NOTIFICATIONS_TOPIC } from '#shared/dapr.ts';
import { createServiceApp } from '#shared/http.ts';
import type { Notification } from '#shared/messages.ts';
import { routeSdkConsoleLogs, sdkLogger, waitForSidecar } from '#shared/sidecar.ts';
import { registerListRoute } from './listRoute.ts';
import { OrderIndex } from './orderIndex/orderIndex.ts';
import { type OrderBook, WorkflowOrderBook } from './orders.ts';
import { registerRoutes } from './routes.ts';
import { Watchdog } from './watchdog.ts';
import { createActivities } from './workflow/activities.ts';
import { ORDER_WORKFLOW, orderWorkflow } from './workflow/orderWorkflow.ts';
import { DEFAULT_RETRY_POLICY } from './workflow/retry.ts';
import { DaprWorkflowClient, LogLevel, WorkflowRuntime } from './workflow/sdk.ts';
import {
  inSpan,
  traceActivity,
  traceContextInterceptor,
  traceWorkflow,
  unsampledInterceptor,
} from './workflow/tracing.ts';
import { SupervisedWorker, widenWorker } from './workflow/worker.ts';

export const loadOrderConfig = (env: NodeJS.ProcessEnv = process.env) =>
  loadConfig(
    {
      /** How long a big order waits for approval before it is released. */
      APPROVAL_TIMEOUT: duration.prefault('24h'),
      RETRY_MAX_ATTEMPTS: z.coerce.number().int().min(1).default(DEFAULT_RETRY_POLICY.maxAttempts),
      RETRY_INITIAL_DELAY: duration.prefault(`${DEFAULT_RETRY_POLICY.initialDelayMs}ms`),
      RETRY_MAX_DELAY: duration.prefault(`${DEFAULT_RETRY_POLICY.maxDelayMs}ms`),
      RETRY_MAX_ELAPSED: duration.prefault(`${DEFAULT_RETRY_POLICY.maxElapsedMs}ms`),
      /** Base URL in Location headers; defaults to http://localhost:<APP_PORT>. */
      PUBLIC_URL: z.url().optional(),
      /** Who may approve: "chris:<token>,dana:<token>". Unset: nobody can. */
      APPROVER_TOKENS: z.string().optional(),
      /** For the operator endpoints (DELETE /orders/:id). Unset: they are disabled. */
      ADMIN_TOKEN: z.string().min(16).optional(),
      RATE_LIMIT_ORDERS_PER_MINUTE: z.coerce.number().int().min(1).default(600),
      /** Workflow and activity work items this app runs at once (the SDK's own limit is 10). */
      WORKFLOW_CONCURRENCY: z.coerce.number().int().min(1).max(10_000).default(200),
      /** How often the stuck-order watchdog looks (0s: never). */
      WATCHDOG_INTERVAL: duration.prefault('30s'),
      /** An order running this long, not counting its approval wait, is flagged as stalled. */
      WATCHDOG_STALLED_AFTER: duration.prefault('5m'),
      /** An order still waiting for approval this long before its deadline is flagged (at most halfway). */
      WATCHDOG_APPROVAL_WARNING: duration.prefault('1h'),
      /** Zipkin's UI, for the trace links of GET /orders/:id. */
      ZIPKIN_URL: z.url().default('http://localhost:9411'),
    },
    env,
  );
export type OrderConfig = ReturnType<typeof loadOrderConfig>;

export interface OrderAppDeps {
  config: OrderConfig;
  /** Defaults to the Dapr workflow engine behind the sidecar, with this app as its worker. */
  orders?: OrderBook;
  /** The order index (GET /orders); defaults to one in the sidecar's state store, with the engine only. */
  index?: OrderIndex;
}

export function buildApp({ config, orders, index: givenIndex }: OrderAppDeps) {
  const app = createServiceApp({ name: 'orderprocessing', logLevel: config.LOG_LEVEL });
  const sidecar = DaprHttpClient.forSidecar(config);
  const index =
    givenIndex ??
    (orders
      ? undefined
      : new OrderIndex(sidecar, {
          onBackgroundError: (error) => app.log.warn({ err: error }, 'order index: a background write failed'),
        }));

  let book = orders;
  if (!book) {
    const grpc = {
      daprHost: config.DAPR_HOST,
      daprPort: String(config.DAPR_GRPC_PORT),
      daprApiToken: config.DAPR_API_TOKEN,
    };
    const logger = { level: LogLevel.Warn, service: sdkLogger(app.log) };
    routeSdkConsoleLogs(logger.service);
    // The client's calls (schedule, raise event) carry the request's traceparent, so the sidecar's spans
    // for them, and for the workflow it runs, join the request's trace; the worker's calls are not traced.
    const client = new DaprWorkflowClient({
      ...grpc,
      logger,
      grpcOptions: { interceptors: [traceContextInterceptor] },
    });
    const engine = new WorkflowOrderBook(client);
    book = engine;
    const runtime = new WorkflowRuntime({
      ...grpc,
      logger,
      grpcOptions: { interceptors: [unsampledInterceptor] },
    }).registerWorkflowWithName(ORDER_WORKFLOW, traceWorkflow(ORDER_WORKFLOW, orderWorkflow));
    // Each step's notifications also go into the index, beside their publish.
    const onNotification =
      index &&
      ((notification: Notification) =>
        inSpan('order index', { 'order.id': notification.orderId, 'notification.kind': notification.kind }, () =>
          index.record(notification),
        ));
    for (const [name, activity] of Object.entries(createActivities({ dapr: sidecar, onNotification }))) {
      runtime.registerActivityWithName(name, traceActivity(name, activity));
    }
    if (!widenWorker(runtime, config.WORKFLOW_CONCURRENCY)) {
      app.log.warn('could not raise the workflow worker concurrency: the SDK changed; it stays at its default');
    }
    const worker = new SupervisedWorker(
      runtime,
      () => waitForSidecar(config.DAPR_HOST, config.DAPR_HTTP_PORT),
      app.log,
    );
    const watchdog =
      index &&
      new Watchdog({
        index,
        engineStatus: async (id) => (await engine.find(id))?.view.status ?? 'missing',
        publish: (notification) => sidecar.publish(NOTIFICATIONS_TOPIC, notification),
        settings: {
          intervalMs: config.WATCHDOG_INTERVAL,
          stalledAfterMs: config.WATCHDOG_STALLED_AFTER,
          approvalWarningMs: config.WATCHDOG_APPROVAL_WARNING,
        },
        log: app.log,
      });
    app.addHook('onListen', () => {
      worker.start();
      watchdog?.start();
    });
    app.addHook('onClose', async () => {
      await Promise.all([worker.stop(), watchdog?.stop()]);
      await index
        ?.flush()
        .catch((error: unknown) =>
          app.log.warn(
            { err: error },
            'order index: deferred writes lost (the orders’ next steps and the watchdog repair them)',
          ),
        );
      await client.stop().catch(() => undefined);
    });
  }

  app.register(rateLimit, { global: false });
  app.register(swagger, {
    openapi: {
      info: { title: 'Orders API', version: '1.0.0', description: 'Durable order processing on Dapr Workflow' },
      components: { securitySchemes: { approver: { type: 'http', scheme: 'bearer' } } },
    },
    transform: jsonSchemaTransform,
  });
  app.register(swaggerUi, { routePrefix: '/docs', staticCSP: true });

  const routes = {
    orders: book,
    approvers: parseApprovers(config.APPROVER_TOKENS),
    adminToken: config.ADMIN_TOKEN,
    ordersPerMinute: config.RATE_LIMIT_ORDERS_PER_MINUTE,
    approvalTimeoutMs: config.APPROVAL_TIMEOUT,
    retry: {
      maxAttempts: config.RETRY_MAX_ATTEMPTS,
      initialDelayMs: config.RETRY_INITIAL_DELAY,
      maxDelayMs: config.RETRY_MAX_DELAY,
      maxElapsedMs: config.RETRY_MAX_ELAPSED,
    },
    publicUrl: config.PUBLIC_URL ?? `http://localhost:${config.APP_PORT}`,
    zipkinUrl: config.ZIPKIN_URL,
  };
  // Registered after swagger, so that the OpenAPI document sees every route.
  app.register(async (scoped) => {
    registerRoutes(scoped as typeof app, { ...routes, index });
    if (index)
      registerListRoute(scoped as typeof app, { index, approvers: routes.approvers, adminToken: routes.adminToken });
  });
  return app;
}
