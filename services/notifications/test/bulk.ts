// Notifications as the workflow publishes them, and batches as daprd's bulk subscribe delivers them
// (checked against daprd 1.18.1 with pubsub.redis): one POST of application/json whose entries each carry
// a CloudEvent, answered with a status per entry id.
import type { Notification } from '#shared/messages.ts';

export const ORDER = 'order_riley_aaaaa';

/** The customer an order id was made for: order_riley_aaaaa → Riley. */
const customerOf = (orderId: string) => {
  const slug = orderId.split('_')[1] ?? '';
  return slug.charAt(0).toUpperCase() + slug.slice(1);
};

export const note = (
  kind: Notification['kind'],
  orderId = ORDER,
  second = 1,
  extra: Partial<Notification> = {},
): Notification => ({
  id: `${orderId}:${kind}`,
  orderId,
  time: new Date(Date.UTC(2026, 0, 1, 12, 0, second)).toISOString(),
  kind,
  text: kind === 'received' ? `Received order for ${customerOf(orderId)}: [milk]. Total = 2` : `${kind} text`,
  // As the workflow publishes it: the data in fields, on every event the customer.
  customer: customerOf(orderId),
  ...(kind === 'received' ? { items: ['milk' as const], total: 2 } : {}),
  ...extra,
});

/** The CloudEvent of one message, as the publisher's sidecar wrapped it. */
export const cloudEventOf = (data: unknown, traceparent?: string) => ({
  data,
  datacontenttype: 'application/json',
  id: `ce-${Math.random().toString(36).slice(2)}`,
  pubsubname: 'orders',
  source: 'orderprocessing',
  specversion: '1.0',
  time: '2026-01-01T12:00:01Z',
  topic: 'notifications',
  ...(traceparent ? { traceid: traceparent, traceparent, tracestate: '' } : {}),
  type: 'com.dapr.event.sent',
});

export interface Entry {
  entryId: string;
  /** The CloudEvent, or anything else for a malformed entry. */
  event: unknown;
}

/** The request daprd sends for `entries`. */
export const bulkRequest = (entries: Entry[], headers: Record<string, string> = {}) => ({
  method: 'POST' as const,
  url: '/notifications/bulk',
  headers: { 'content-type': 'application/json', ...headers },
  payload: JSON.stringify({
    entries: entries.map((entry) => ({
      ...entry,
      metadata: {},
      contentType: 'application/cloudevents+json',
    })),
    id: 'c5b1f0a2-7d4e-4f38-9a61-2b0c8e5d3f11',
    metadata: { pubsubName: 'orders' },
    pubsubname: 'orders',
    topic: 'notifications',
    type: 'com.dapr.event.sent.bulk',
  }),
});

export const entry = (entryId: string, data: unknown, traceparent?: string): Entry => ({
  entryId,
  event: cloudEventOf(data, traceparent),
});
