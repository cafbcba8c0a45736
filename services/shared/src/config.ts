// Configuration every service reads from its environment. The Dapr CLI (and the test harness, from the
// same dapr.yaml) sets APP_ID, APP_PORT, DAPR_HTTP_PORT and DAPR_GRPC_PORT.
import { isIP } from 'node:net';
import ms from 'ms';
import { z } from 'zod';
import { FaultRules } from './faults.ts';

const port = z.coerce.number().int().min(1).max(65535);

/**
 * Durations as people write them: "500ms", "5s", "10m", "24h", "1d". Only these forms: `ms` alone would
 * also take a bare number (as milliseconds) and words such as "2 hours", and reads at most 100 characters.
 */
export const duration = z
  .string()
  .max(100, 'a duration such as 5s, 10m or 24h')
  .regex(/^\d+(?:\.\d+)?(?:ms|s|m|h|d)$/, 'a duration such as 5s, 10m or 24h')
  .transform((text) => ms(text as ms.StringValue));

/** The names proxy-addr knows for address ranges, beside addresses and CIDRs. */
const NAMED_RANGES = new Set(['loopback', 'linklocal', 'uniquelocal']);

/**
 * Which proxies to believe about a client's address (X-Forwarded-For), as Fastify's `trustProxy` takes it:
 * "false" (the socket's address, the default), "true" (any), a hop count, or addresses, CIDRs and
 * loopback / linklocal / uniquelocal, comma-separated.
 */
export const trustProxy = z
  .string()
  .trim()
  .refine(
    (text) =>
      /^(true|false|\d+)$/.test(text) ||
      text
        .split(',')
        .map((part) => part.trim())
        .every((part) => NAMED_RANGES.has(part) || isIP(part.split('/')[0] ?? '') !== 0),
    'true, false, a hop count, or addresses, CIDRs and loopback / linklocal / uniquelocal, comma-separated',
  )
  .transform((text): boolean | number | string[] => {
    if (text === 'true' || text === 'false') return text === 'true';
    if (/^\d+$/.test(text)) return Number(text);
    return text.split(',').map((part) => part.trim());
  });

const baseSchema = z.object({
  APP_ID: z.string().min(1).optional(),
  APP_PORT: port,
  APP_HOST: z.string().default('127.0.0.1'),
  DAPR_HOST: z.string().default('127.0.0.1'),
  DAPR_HTTP_PORT: port.default(3500),
  DAPR_GRPC_PORT: port.default(50001),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** The token our sidecar wants on its API (daprd reads the same variable). */
  DAPR_API_TOKEN: z.string().min(1).optional(),
  /** The token our sidecar presents to us (daprd reads the same variable). */
  APP_API_TOKEN: z.string().min(1).optional(),
  /** The proxies in front of the service (an ingress) whose X-Forwarded-For names the client. */
  TRUST_PROXY: trustProxy.prefault('false'),
  /** How long a service keeps what it recorded of one order (reservation, shipment, timeline, index…). */
  ORDER_RECORD_RETENTION: duration.prefault('90d'),
  /** For the tests only: calls about chosen orders that fail (faults.ts). Unset: none. */
  FAULTS: FaultRules,
});

export type BaseConfig = z.infer<typeof baseSchema>;

/**
 * Parses the environment with the base schema extended by a service's own keys; a bad value stops the
 * service at start with the variable's name rather than failing later.
 */
export function loadConfig<T extends z.ZodRawShape>(
  extra: T,
  env: NodeJS.ProcessEnv = process.env,
): BaseConfig & z.infer<z.ZodObject<T>> {
  const result = baseSchema.extend(extra).safeParse(env);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new Error(`invalid configuration: ${problems.join('; ')}`);
  }
  return result.data as BaseConfig & z.infer<z.ZodObject<T>>;
}
