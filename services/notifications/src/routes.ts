import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import { z } from 'zod';
import { DaprError } from '#shared/dapr.ts';
import { Problem, problems, Unavailable } from '#shared/errors.ts';
import type { ServiceApp } from '#shared/http.ts';
import { ApprovalRequest, OrderParams } from '#shared/messages.ts';
import { limit } from '#shared/rateLimits.ts';
import type { LiveMessage, LiveUpdates } from './live.ts';
import type { LiveLimits } from './liveLimits.ts';
import { LiveStream, type SSEFrame, sharedFrame } from './liveStream.ts';
import type { OrderIndex } from './orderIndex/orderIndex.ts';
import { maskedCatchup, maskedMessage, maskedSummary, maskedTimeline } from './personalData.ts';
import { registerProjectionRoutes } from './projectionRoutes.ts';
import type { ReaderCheck } from './readers.ts';
import { type Catchup, type ReadModel, summarize } from './readModel.ts';
import type { SnapshotCache } from './snapshotCache.ts';
import { registerSubscription } from './subscription.ts';

const publicDir = fileURLToPath(new URL('../public/', import.meta.url));

/** The approval API of orderprocessing (through Dapr service invocation by default). */
export interface OrdersApi {
  /** `authorization` is the approver's own header (Bearer token), passed on as it came. */
  approve(orderId: string, decision: ApprovalRequest, authorization?: string): Promise<{ message?: string }>;
  /** Whether the token of `authorization` may read customers' names (an approver's or the admin's). */
  canRead(authorization: string): Promise<boolean>;
}

export interface NotificationsDeps {
  model: ReadModel;
  index: OrderIndex;
  live: LiveUpdates;
  orders: OrdersApi;
  /** Who may see customers' names (readers.ts). */
  readers: ReaderCheck;
  limits: {
    connections: LiveLimits;
    /** The snapshot a new connection starts from, read once for a burst of connections. */
    snapshots: SnapshotCache;
    /** Bytes a client may leave unread (beyond its catchup) before it is dropped. */
    maxBufferedBytes: number;
    /** Approvals and rejections per client and minute (across the replicas). */
    decisionsPerMinute: number;
    /** Reads of the JSON API per client and minute. */
    readsPerMinute: number;
  };
}

/** Each event's id is the `at` it was stored with: the browser sends the last one back (Last-Event-ID). */
const notificationFrame = (message: LiveMessage): SSEFrame => ({
  id: String(message.event.at),
  event: 'notification',
  data: message,
});
const catchupFrame = (catchup: Catchup): SSEFrame => ({
  id: String(catchup.cursor),
  event: 'catchup',
  data: catchup,
  retry: 2000,
});

/** An SSE cursor as sent back in Last-Event-ID (or `?after=`): the `at` of an event, or undefined. */
function parseCursor(text: string | null | undefined): number | undefined {
  if (!text || !/^\d{1,16}$/.test(text)) return undefined;
  return Number(text);
}

function upstreamMessage(body: unknown, fallback: string): string {
  if (body && typeof body === 'object' && 'message' in body && typeof body.message === 'string') return body.message;
  return fallback;
}

export function registerRoutes(
  app: ServiceApp,
  { model, index, live, orders, limits, readers }: NotificationsDeps,
): void {
  app.addHook('onSend', async (_request, reply) => {
    reply.header('x-content-type-options', 'nosniff');
  });

  registerSubscription(app, { model, index, live });
  registerProjectionRoutes(app, index);

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
  const reads = { config: limit('reads', limits.readsPerMinute) };
  app.get('/api/orders', reads, async (request) => {
    const { orders: recent } = await model.recent();
    if (await readers.isReader(request)) return { orders: recent };
    return { orders: recent.map(maskedSummary) };
  });

  app.get('/api/orders/:orderId/timeline', { ...reads, schema: { params: OrderParams } }, async (request) => {
    const { orderId } = request.params;
    const timeline = await model.timeline(orderId);
    const order = timeline ? summarize(timeline) : null;
    const events = timeline?.events ?? [];
    if (await readers.isReader(request)) return { orderId, order, events };
    return maskedTimeline(orderId, order, events);
  });

  // Signing in to see customers' names (readers.ts): a cookie, which the page's live stream sends too.
  app.post(
    '/api/session',
    { config: reads.config, schema: { response: { 204: z.null(), ...problems(401, 429) } } },
    async (request, reply) => {
      await readers.signIn(request, reply).catch((error: unknown) => {
        if (error instanceof Problem) throw error;
        request.log.error({ err: error }, 'orderprocessing could not say whether a token may read');
        throw new Problem('bad_gateway', 'orderprocessing is not reachable right now; try again');
      });
      return reply.code(204).send(null);
    },
  );
  app.delete('/api/session', async (request, reply) => {
    readers.signOut(request, reply);
    return reply.code(204).send(null);
  });

  // The page's Approve / Reject buttons: passed on to orderprocessing through Dapr service invocation (so
  // the page needs no CORS) with the approver's Authorization header, and its answer passed back: 202, or
  // 401 / 403 / 404 / 409 / 422 and its message. This service holds no approval rights of its own.
  app.post(
    '/api/orders/:orderId/approve',
    { config: limit('decisions', limits.decisionsPerMinute), schema: { params: OrderParams, body: ApprovalRequest } },
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
  const openStreams = new Set<LiveStream>();
  app.addHook('preClose', async () => {
    for (const stream of openStreams) stream.close();
  });

  // Live updates. A new connection gets a snapshot first; a reconnection (Last-Event-ID, which the
  // browser's EventSource sends by itself) gets what it missed, or a snapshot when that cannot be told.
  // Connections are capped overall and per client, and one whose client stops reading is dropped
  // (liveLimits.ts, liveStream.ts).
  app.get(
    '/events',
    {
      sse: 'only',
      schema: { querystring: z.object({ after: z.string().optional() }), response: problems(429, 503) },
    },
    async (request, reply) => {
      const admitted = limits.connections.admit(request.ip ?? 'unknown');
      if ('refusal' in admitted) {
        const { statusCode, message, retryAfter } = admitted.refusal;
        request.log.warn({ client: request.ip, open: limits.connections.size }, message);
        return reply.code(statusCode).header('retry-after', String(retryAfter)).send({ statusCode, message });
      }
      const stream = new LiveStream(reply.sse, reply.raw, request.log, limits.maxBufferedBytes);
      // Names whole for a reader, masked for anyone else (personalData.ts); each version formatted once.
      const reader = await readers.isReader(request);
      const pushLive = (message: LiveMessage) =>
        stream.send(sharedFrame(reader ? message : maskedMessage(message), notificationFrame));

      // Listen before reading the store, so that nothing stored meanwhile slips between the two.
      let early: LiveMessage[] | undefined = [];
      const unsubscribe = live.subscribe((message) => {
        if (early) early.push(message);
        else pushLive(message);
      });
      openStreams.add(stream);
      stream.onEnd(() => {
        unsubscribe();
        openStreams.delete(stream);
        admitted.release();
      });

      let catchup: Catchup;
      try {
        const cursor = parseCursor(reply.sse.lastEventId ?? request.query.after);
        catchup = (cursor === undefined ? undefined : await model.since(cursor)) ?? (await limits.snapshots.get());
      } catch (error) {
        unsubscribe();
        request.log.error({ err: error }, 'could not read the read model for a live connection');
        throw new Unavailable('the order history is not available right now');
      }
      if (!stream.isOpen) return; // the client went away meanwhile
      reply.sse.keepAlive();
      stream.sendCatchup(sharedFrame(reader ? catchup : maskedCatchup(catchup), catchupFrame));
      const missed = early;
      early = undefined;
      for (const message of missed) pushLive(message);
    },
  );
}
