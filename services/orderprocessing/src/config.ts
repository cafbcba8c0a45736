// orderprocessing's settings, from its environment: a bad value stops the service at start, naming it.
import { z } from 'zod';
import { duration, loadConfig } from '#shared/config.ts';
import { rateLimitSettings } from '#shared/rateLimits.ts';
import type { RetryPolicy } from './workflow/retry.ts';
import { DEFAULT_RETRY_POLICY } from './workflow/retry.ts';

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
      /** Per client and minute, across the replicas (429 beyond): POST /orders. */
      RATE_LIMIT_ORDERS_PER_MINUTE: z.coerce.number().int().min(1).default(600),
      ...rateLimitSettings,
      /** Workflow and activity work items this app runs at once (the SDK's own limit is 10). */
      WORKFLOW_CONCURRENCY: z.coerce.number().int().min(1).max(10_000).default(200),
      /** How often the stuck-order watchdog looks (0s: never). */
      WATCHDOG_INTERVAL: duration.prefault('30s'),
      /** An order running this long, not counting its approval wait, is flagged as stalled. */
      WATCHDOG_STALLED_AFTER: duration.prefault('5m'),
      /** An order still waiting for approval this long before its deadline is flagged (at most halfway). */
      WATCHDOG_APPROVAL_WARNING: duration.prefault('1h'),
      /**
       * How long an order id stays taken, with how its order ended (unset: for good). Past it, an
       * Idempotency-Key could place a new order under the id, as with any key's retention window.
       */
      ORDER_ID_RETENTION: duration.optional(),
      /** The version of the order workflow new orders start on (unset: the latest). */
      ORDER_WORKFLOW_VERSION: z.coerce.number().int().min(1).optional(),
      /** Zipkin's UI, for the trace links of GET /orders/:id. */
      ZIPKIN_URL: z.url().default('http://localhost:9411'),
    },
    env,
  );
export type OrderConfig = ReturnType<typeof loadOrderConfig>;

export const retryPolicyOf = (config: OrderConfig): RetryPolicy => ({
  maxAttempts: config.RETRY_MAX_ATTEMPTS,
  initialDelayMs: config.RETRY_INITIAL_DELAY,
  maxDelayMs: config.RETRY_MAX_DELAY,
  maxElapsedMs: config.RETRY_MAX_ELAPSED,
});
