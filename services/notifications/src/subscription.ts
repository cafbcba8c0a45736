// The subscription to topic `notifications` (components/subscription.yaml): the sidecar delivers the
// messages in batches (Dapr bulk subscribe) to POST /notifications/bulk, one request for up to a batch of
// CloudEvents, and answers each entry on its own. POST /notifications takes one CloudEvent per request,
// as a subscription without bulkSubscribe delivers it: kept for such configurations, it shares the
// handling of each message with the batches.
import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { FastifyBaseLogger } from 'fastify';
import { z } from 'zod';
import type { ServiceApp } from '#shared/http.ts';
import { Notification } from '#shared/messages.ts';
import type { LiveUpdates } from './live.ts';
import type { OrderIndex } from './orderIndex/orderIndex.ts';
import { type ReadModel, TimelineFull } from './readModel.ts';

export const SUBSCRIPTION_PATHS = new Set(['/notifications', '/notifications/bulk']);

/** A lenient string field: anything else reads as absent rather than failing the whole message. */
const optionalString = z.string().optional().catch(undefined);

/** Dapr delivers each message as a CloudEvent; our notification is its `data`, its trace `traceparent`. */
export const CloudEvent = z
  .object({ id: optionalString, data: z.unknown(), traceparent: optionalString, traceid: optionalString })
  .loose();
export type CloudEvent = z.infer<typeof CloudEvent>;

/**
 * The most entries a batch may hold: ten times the subscriptions' maxMessagesCount. A larger batch is
 * refused whole, so its handling (one write per timeline, all at once) stays bounded.
 */
export const MAX_BULK_ENTRIES = 100;

/**
 * A batch as daprd's bulk subscribe POSTs it (content type application/json; `type`, `topic`, `pubsubname`
 * and `id` beside the entries). Each entry's `event` is checked on its own, so that one bad message is
 * dropped alone instead of failing, and so redelivering, the whole batch.
 */
export const BulkDelivery = z
  .object({
    entries: z
      .array(
        z
          .object({
            entryId: z.string().min(1),
            event: z.unknown(),
            contentType: optionalString,
            metadata: z.record(z.string(), z.unknown()).optional().catch(undefined),
          })
          .loose(),
      )
      .max(MAX_BULK_ENTRIES),
  })
  .loose();
export type BulkDelivery = z.infer<typeof BulkDelivery>;

/** What the app answers per message: stored (or a no-op redelivery), redeliver it later, or never. */
export type DeliveryStatus = 'SUCCESS' | 'RETRY' | 'DROP';
export interface BulkAnswer {
  statuses: { entryId: string; status: DeliveryStatus }[];
}

/**
 * A batch of 10 notifications is under 10 KiB; room for a much larger maxMessagesCount, since a batch over
 * the limit would be refused (413) and redelivered whole, forever. Only the sidecar may post here.
 */
const BULK_BODY_LIMIT = 1024 * 1024;

const tracer = trace.getTracer('notifications.subscription');

export interface SubscriptionDeps {
  model: ReadModel;
  /** The order index (GET /orders, the watchdog's running set), the other part of the same projection. */
  index: OrderIndex;
  live: LiveUpdates;
}

export function registerSubscription(app: ServiceApp, { model, index, live }: SubscriptionDeps): void {
  app.addContentTypeParser('application/cloudevents+json', { parseAs: 'string' }, (_request, body, done) => {
    try {
      done(null, JSON.parse(body as string));
    } catch (error) {
      done(Object.assign(error as Error, { statusCode: 400 }), undefined);
    }
  });

  // One message. A message that is not a notification is dropped, not retried: no redelivery would make
  // it valid. A store that fails is retried: the answer is RETRY (with a 500, which means the same).
  async function handle(data: unknown, log: FastifyBaseLogger): Promise<DeliveryStatus> {
    const parsed = Notification.safeParse(data);
    if (!parsed.success) {
      log.warn({ issues: parsed.error.issues }, 'dropping a message that is not a notification');
      return 'DROP';
    }
    const notification = parsed.data;
    trace.getActiveSpan()?.setAttribute('order.id', notification.orderId);
    try {
      // Both parts of the projection, each idempotent by the event's id: the timeline holds it once, and
      // the index takes it from the timeline (its record is derived from it). A failure of either
      // redelivers the event, which the timeline then finds there and the index takes again.
      const recorded = await model.record(notification);
      await index.take(notification, recorded.timeline);
      if (!recorded.isNew) log.info({ id: notification.id }, 'redelivered notification: already stored');
      if (recorded.publish) live.publish({ event: recorded.event, order: recorded.order });
      return 'SUCCESS';
    } catch (error) {
      if (error instanceof TimelineFull) {
        log.warn({ id: notification.id, err: error }, 'dropping a notification');
        return 'DROP';
      }
      log.error({ id: notification.id, err: error }, 'could not store a notification; it will be redelivered');
      return 'RETRY';
    }
  }

  // One entry of a batch, in a span of its own whose parent is the message's trace (the CloudEvent's
  // `traceparent`, which the publisher's sidecar set), so that each order's trace holds its notifications
  // although one request carries several orders. Named as a delivery of its own is (the route), so an
  // order's trace reads as before. The batch's request is a span only at TRACE_DETAIL=calls
  // (shared/instrument.ts), `POST /notifications/bulk`, in one of their traces.
  async function handleEntry(event: unknown, log: FastifyBaseLogger): Promise<DeliveryStatus> {
    const cloudEvent = CloudEvent.safeParse(event);
    if (!cloudEvent.success) {
      log.warn({ issues: cloudEvent.error.issues }, 'dropping a batch entry that is not a CloudEvent');
      return 'DROP';
    }
    const { data, id, traceparent = cloudEvent.data.traceid } = cloudEvent.data;
    const parent = traceparent ? propagation.extract(ROOT_CONTEXT, { traceparent }) : context.active();
    const attributes = id === undefined ? {} : { 'messaging.message.id': id };
    return tracer.startActiveSpan('POST /notifications', { kind: SpanKind.CONSUMER, attributes }, parent, (span) =>
      handle(data, log)
        .then((status) => {
          if (status === 'RETRY') span.setStatus({ code: SpanStatusCode.ERROR, message: 'RETRY' });
          return status;
        })
        .finally(() => span.end()),
    );
  }

  app.post('/notifications', { schema: { body: CloudEvent } }, async (request, reply) => {
    const status = await handle(request.body.data, request.log);
    return status === 'RETRY' ? reply.code(500).send({ status }) : { status };
  });

  // Entries are recorded concurrently, so the read model's group commit writes the index once for many;
  // each gets its own answer, so a store failure redelivers only the entries it hit.
  app.post(
    '/notifications/bulk',
    { schema: { body: BulkDelivery }, bodyLimit: BULK_BODY_LIMIT },
    async (request): Promise<BulkAnswer> => {
      const { entries } = request.body;
      trace.getActiveSpan()?.setAttribute('messaging.batch.message_count', entries.length);
      const statuses = await Promise.all(
        entries.map(async ({ entryId, event }) => ({ entryId, status: await handleEntry(event, request.log) })),
      );
      return { statuses };
    },
  );
}
