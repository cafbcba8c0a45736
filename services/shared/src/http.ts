// The Fastify app every service starts from: pino logging, zod validation with errors that name the
// field, bad input as a 4xx (never a 5xx), and a health route for the sidecar's app health check.
import helmet from '@fastify/helmet';
import { trace } from '@opentelemetry/api';
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import {
  hasZodFastifySchemaValidationErrors,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import { presentsAppToken } from './auth.ts';
import { Problem, Unauthorized } from './errors.ts';
import { type FaultRule, injectFaults } from './faults.ts';
import { traceTrustingServer } from './traceTrust.ts';
import { traceLogFields } from './tracing.ts';

export interface ServiceAppOptions {
  name: string;
  logLevel?: string;
  /** Largest accepted body in bytes; larger ones get 413. */
  bodyLimit?: number;
  /**
   * APP_API_TOKEN: when set, the sidecar presents it in `dapr-api-token` on every call to the app. Only a
   * request that carries it continues its caller's trace.
   */
  appApiToken?: string;
  /** TRUST_PROXY: whose X-Forwarded-For to believe about the client's address (`request.ip`). */
  trustProxy?: boolean | number | string[];
  /** Routes only the sidecar may call (checked when `appApiToken` is set); the rest are public. */
  sidecarOnly?: (route: MatchedRoute) => boolean;
  /** For the tests only (FAULTS): calls about chosen orders that fail. */
  faults?: FaultRule[];
}

/**
 * A request's route as the router matched it: its pattern, never the URL as written. The router decodes the
 * path (`/%6Eotifications` matches `/notifications`), so a check of the raw URL can be walked around.
 */
export interface MatchedRoute {
  method: string;
  url: string;
}

export function createServiceApp(options: ServiceAppOptions) {
  const app = Fastify({
    logger: {
      level: options.logLevel ?? 'info',
      base: { service: options.name },
      redact: ['req.headers.authorization', 'req.headers["dapr-api-token"]'],
      // trace_id and span_id on every line written while a traced request or activity runs.
      mixin: traceLogFields,
    },
    bodyLimit: options.bodyLimit ?? 64 * 1024,
    serverFactory: traceTrustingServer(options.appApiToken),
    // Fastify takes each of the three forms; its overloads do not resolve a union of them.
    trustProxy: (options.trustProxy ?? false) as boolean,
    // Keys such as __proto__ in a JSON body are dropped, never merged into prototypes.
    onProtoPoisoning: 'remove',
    onConstructorPoisoning: 'remove',
  }).withTypeProvider<ZodTypeProvider>();

  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  // Security headers everywhere; the CSP allows scripts from our own origin only (no inline scripts).
  app.register(helmet);

  // The request's span (started by the HTTP instrumentation, which knows no routes) is named after its
  // route, and names the order it is about, so that Zipkin finds every request of an order by `order.id`.
  app.addHook('onRequest', (request, _reply, done) => {
    const span = trace.getActiveSpan();
    const route = request.routeOptions.url;
    if (span && route) {
      span.updateName(`${request.method} ${route}`).setAttribute('http.route', route);
      const { id, orderId } = (request.params ?? {}) as { id?: unknown; orderId?: unknown };
      const order = orderId ?? id;
      if (typeof order === 'string') span.setAttribute('order.id', order);
    }
    done();
  });

  const { appApiToken, sidecarOnly } = options;
  if (appApiToken && sidecarOnly) {
    app.addHook('onRequest', async (request) => {
      const url = request.routeOptions.url;
      // No route matched: the not-found handler answers, and serves nothing.
      if (url === undefined || !sidecarOnly({ method: request.method, url })) return;
      if (!presentsAppToken(request.headers, appApiToken)) {
        throw new Unauthorized('this endpoint is called through Dapr only');
      }
    });
  }

  injectFaults(app, options.faults ?? []);

  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (hasZodFastifySchemaValidationErrors(error)) {
      const issues = error.validation.map((issue) => ({
        field: [error.validationContext, ...String(issue.instancePath).split('/').filter(Boolean)].join('.'),
        message: issue.message,
      }));
      return reply.code(422).send({
        statusCode: 422,
        error: 'Unprocessable Entity',
        message: issues.map((issue) => `${issue.field}: ${issue.message}`).join('; '),
        issues,
      });
    }
    // The domain's answers (not found, conflict, unavailable…) carry their kind; Fastify's own (a body
    // too large, malformed JSON, a rate limit) their status. Anything else is a bug: 500, said vaguely.
    if (error instanceof Problem) {
      // Worth a line for operators: what the service could not reach, and why.
      if (error.statusCode >= 500) request.log.warn({ err: error.cause ?? error }, error.message);
      return reply.code(error.statusCode).send({ statusCode: error.statusCode, message: error.message });
    }
    const status = error.statusCode ?? 500;
    if (status >= 500) request.log.error({ err: error }, 'request failed');
    return reply.code(status).send({
      statusCode: status,
      error: error.code,
      message: status >= 500 ? 'internal error' : error.message,
    });
  });

  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({ statusCode: 404, message: `no route ${request.method} ${request.url}` }),
  );

  // While closing, answers in flight also close their connection: a keep-alive client would otherwise
  // hold the socket open for its idle timeout, and the graceful shutdown would wait for it.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onSend', async (_request, reply, payload) => {
    if (closing) reply.header('connection', 'close');
    return payload;
  });

  app.get('/healthz', { logLevel: 'warn' }, async () => ({ status: 'ok' }));
  return app;
}

export type ServiceApp = ReturnType<typeof createServiceApp>;

/** The sidecar's app health check: open to it without a token. */
export const isHealthCheck = (route: MatchedRoute) => route.url === '/healthz';
export type { FastifyInstance };
