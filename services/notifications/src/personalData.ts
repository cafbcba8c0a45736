// Customers' names are personal data: the page shows them whole to a reader (someone who signed in with an
// approver's or the admin token, see readers.ts) and masked to anyone else, as GET /orders/:id does. A name
// is in an order's summary, in the text of its `received` notification, and, as a slug, in its id
// (order_<name>_<5 chars>), which every notification's id and some failure texts repeat.
import { maskName } from '#shared/auth.ts';
import type { LiveMessage } from './live.ts';
import type { Catchup, OrderSummary, StoredEvent } from './readModel.ts';

/** order_riley_x7k2p → order_r…_x7k2p: still one order per id on the page, no longer a name. */
export const maskOrderId = (orderId: string) => orderId.replace(/^order_([a-z0-9])[a-z0-9]*_/, 'order_$1…_');

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Replaces an order's id, and its customer's name where it stands as a word, in a text. */
function maskerFor(orderId: string, customer: string | undefined) {
  const id = new RegExp(escapeRegExp(orderId), 'g');
  const name = customer?.trim()
    ? new RegExp(`(?<![\\p{L}\\p{N}])${escapeRegExp(customer)}(?![\\p{L}\\p{N}])`, 'gu')
    : undefined;
  const maskedName = customer ? maskName(customer, 'anonymous') : '';
  return (text: string) => {
    const withoutId = text.replace(id, maskOrderId(orderId));
    return name ? withoutId.replace(name, maskedName) : withoutId;
  };
}

export function maskedSummary(order: OrderSummary): OrderSummary {
  return {
    ...order,
    orderId: maskOrderId(order.orderId),
    ...(order.customer === undefined ? {} : { customer: maskName(order.customer, 'anonymous') }),
  };
}

function maskEvent(event: StoredEvent, customer: string | undefined): StoredEvent {
  const mask = maskerFor(event.orderId, customer ?? event.customer);
  return {
    ...event,
    id: mask(event.id),
    orderId: maskOrderId(event.orderId),
    text: mask(event.text),
    ...(event.customer === undefined ? {} : { customer: maskName(event.customer, 'anonymous') }),
    ...(event.result ? { result: { ...event.result, message: mask(event.result.message) } } : {}),
    ...(event.reason === undefined ? {} : { reason: mask(event.reason) }),
  };
}

// A live message or a snapshot goes to many connections: each is masked once (and formatted once, by
// sharedFrame, which keys on the masked object kept here).
const masked = new WeakMap<object, object>();
function once<T extends object>(source: T, mask: (source: T) => T): T {
  let result = masked.get(source) as T | undefined;
  if (!result) {
    result = mask(source);
    masked.set(source, result);
  }
  return result;
}

export const maskedMessage = (message: LiveMessage): LiveMessage =>
  once(message, ({ event, order }) => ({ event: maskEvent(event, order.customer), order: maskedSummary(order) }));

/** A catchup as someone who has not signed in gets it: `masked` tells the page to offer signing in. */
export const maskedCatchup = (catchup: Catchup): Catchup & { masked: true } =>
  once(catchup, (source) => {
    const customers = new Map(source.orders.map((order) => [order.orderId, order.customer]));
    return {
      ...source,
      masked: true,
      orders: source.orders.map(maskedSummary),
      events: source.events.map((event) => maskEvent(event, customers.get(event.orderId))),
    };
  }) as Catchup & { masked: true };

export function maskedTimeline(orderId: string, order: OrderSummary | null, events: StoredEvent[]) {
  return {
    orderId: maskOrderId(orderId),
    order: order ? maskedSummary(order) : null,
    events: events.map((event) => maskEvent(event, order?.customer)),
  };
}
