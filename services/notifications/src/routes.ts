import { fileURLToPath } from 'node:url';
import type { SSEMessage } from '@fastify/sse';
import fastifyStatic from '@fastify/static';
import { z } from 'zod';
import { DaprError } from '#shared/dapr.ts';
import { Problem, Unavailable } from '#shared/errors.ts';
import type { ServiceApp } from '#shared/http.ts';
import { ApprovalRequest, OrderParams } from '#shared/messages.ts';
import type { LiveMessage, LiveUpdates } from './live.ts';
import { type Catchup, type ReadModel, summarize } from './readModel.ts';
import { registerSubscription } from './subscription.ts';

const publicDir = fileURLToPath(new URL('../public/', import.meta.url));

/** The approval API of orderprocessing (through Dapr service invocation by default). */
export interface OrdersApi {
  /** `authorization` is the approver's own header (Bearer token), passed on as it came. */
  approve(orderId: string, decision: ApprovalRequest, authorization?: string): Promise<{ message?: string }>;
}

export interface NotificationsDeps {
  model: ReadModel;
  live: LiveUpdates;
  orders: OrdersApi;
}

/** An SSE cursor as sent back in Last-Event-ID (or `?after=`): the `at` of an event, or undefined. */
function parseCursor(text: string | null | undefined): number | undefined {
  if (!text || !/^\d{1,16}$/.test(text)) return undefined;
  return Number(text);
}

function upstreamMessage(body: unknown, fallback: string): string {
  if (body && typeof body === 'object' && 'message' in body && typeof body.message === 'string') return body.message;
  return fallback;
}

export function registerRoutes(app: ServiceApp, { model, live, orders }: NotificationsDeps): void {
  app.addHook('onSend', async (_request, reply) => {
    reply.header('x-content-type-options', 'nosniff');
  });

  registerSubscription(app, { model, live });

  // The page: three static files, no inline script or style, served at `/` (and `/index.html`), `/app.js`
  // and `/style.css`: a route each, found at start, no wildcard route beside the API. Revalidated on every
  // load (ETag); scripts as text/javascript (RFC 9239) rather than send's application/javascript.
  app.register(fastifyStatic, {
    root: publicDir,
    wildcard: false,
    cacheControl: false,
    setHeaders: (reply, path) => {
      reply.header('cache-control', 'no-cache');
      if (path.endsWith('.js')) reply.type('text/javascript; charset=utf-8');
    },
  });
  app.get('/favicon.ico', { logLevel: 'warn' }, (_request, reply) => reply.code(204).send());

  // The JSON API beside the page.
  app.get('/api/orders', async () => ({ orders: (await model.recent()).orders }));

  app.get('/api/orders/:orderId/timeline', { schema: { params: OrderParams } }, async (request) => {
    const timeline = await model.timeline(request.params.orderId);
    return {
      orderId: request.params.orderId,
      order: timeline ? summarize(timeline) : null,
      events: timeline?.events ?? [],
    };
  });

  // The page's Approve / Reject buttons: passed on to orderprocessing through Dapr service invocation (so
  // the page needs no CORS) with the approver's Authorization header, and its answer passed back: 202, or
  // 401 / 403 / 404 / 409 / 422 and its message. This service holds no approval rights of its own.
  app.post(
    '/api/orders/:orderId/approve',
    { schema: { params: OrderParams, body: ApprovalRequest } },
    async (request, reply) => {
      const { orderId } = request.params;
      try {
        const answer = await orders.approve(orderId, request.body, request.headers.authorization);
        return reply.code(202).send({ message: answer?.message ?? 'sent' });
      } catch (error) {
        if (error instanceof DaprError && error.status >= 400 && error.status < 500) {
          const message = upstreamMessage(error.body, error.message);
          return reply.code(error.status).send({ statusCode: error.status, message });
        }
        request.log.error({ err: error, orderId }, 'the approval did not reach orderprocessing');
        throw new Problem('bad_gateway', 'orderprocessing is not reachable right now; try again');
      }
    },
  );

  // Open streams end when the service stops, so that a graceful shutdown does not wait on a browser
  // (which reconnects by itself, to this instance once it is back, or to another).
  const openStreams = new Set<{ close(): void }>();
  app.addHook('preClose', async () => {
    for (const stream of openStreams) stream.close();
  });

  // Live updates. A new connection gets a snapshot first; a reconnection (Last-Event-ID, which the
  // browser's EventSource sends by itself) gets what it missed, or a snapshot when that cannot be told.
  app.get(
    '/events',
    { sse: 'only', schema: { querystring: z.object({ after: z.string().optional() }) } },
    async (request, reply) => {
      const sse = reply.sse;
      // Sends one at a time and in order; a connection that went away just stops receiving.
      let queue = Promise.resolve();
      const push = (message: SSEMessage) => {
        queue = queue.then(() => (sse.isConnected ? sse.send(message) : undefined)).catch(() => undefined);
        return queue;
      };
      const pushLive = (message: LiveMessage) =>
        push({ id: String(message.event.at), event: 'notification', data: message });

      // Listen before reading the store, so that nothing stored meanwhile slips between the two.
      let early: LiveMessage[] | undefined = [];
      const unsubscribe = live.subscribe((message) => {
        if (early) early.push(message);
        else void pushLive(message);
      });
      openStreams.add(sse);
      sse.onClose(() => {
        unsubscribe();
        openStreams.delete(sse);
      });

      let catchup: Catchup;
      try {
        const cursor = parseCursor(sse.lastEventId ?? request.query.after);
        catchup = (cursor === undefined ? undefined : await model.since(cursor)) ?? (await model.snapshot());
      } catch (error) {
        unsubscribe();
        request.log.error({ err: error }, 'could not read the read model for a live connection');
        throw new Unavailable('the order history is not available right now');
      }
      sse.keepAlive();
      await push({ id: String(catchup.cursor), event: 'catchup', data: catchup, retry: 2000 });
      const missed = early;
      early = undefined;
      for (const message of missed) void pushLive(message);
      await queue;
    },
  );
}
