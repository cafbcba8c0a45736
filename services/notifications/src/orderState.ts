// What an order's notifications say about it: its current state, derived from the set of kinds seen so
// far. The derivation does not depend on the order in which notifications arrive (pub/sub may reorder).
import {
  type Notification,
  type NotificationKind,
  NotificationKind as NotificationKindSchema,
} from '#shared/messages.ts';

export const ORDER_STATES = [
  'received',
  'waiting_for_approval',
  'approved',
  'paid',
  'shipped',
  'failed',
  'cancelled',
] as const;
export type OrderState = (typeof ORDER_STATES)[number];

/** The kinds in the order the workflow publishes them (the schema lists them so): ties on time are broken by this. */
export const KIND_ORDER: readonly NotificationKind[] = NotificationKindSchema.options;

export interface DerivedState {
  state: OrderState;
  /** Why an order was cancelled or failed, in a few words. */
  reason?: string;
  /** While waiting for approval: when the order is released unless someone approves it. */
  deadline?: string;
}

const DEADLINE = /Deadline = (\d{4}-\d{2}-\d{2}T[\d:.]+Z)/;
const RECEIVED = /^Received order for (.*): \[[^\]]*\]\. Total = [\d.]+$/s;

export function deriveState(events: readonly Pick<Notification, 'kind' | 'text'>[]): DerivedState {
  const byKind = new Map(events.map((event) => [event.kind, event]));
  const has = (kind: NotificationKind) => byKind.has(kind);
  if (has('shipped')) return { state: 'shipped' };
  if (has('payment_failed')) return { state: 'failed', reason: 'payment failed' };
  if (has('shipping_failed') || has('compensated')) return { state: 'failed', reason: 'shipping failed' };
  if (has('rejected')) return { state: 'cancelled', reason: 'rejected' };
  if (has('cancelled')) return { state: 'cancelled', reason: 'cancelled by an approver' };
  if (has('approval_timed_out')) return { state: 'cancelled', reason: 'approval timed out' };
  if (has('out_of_stock')) return { state: 'cancelled', reason: 'out of stock' };
  if (has('paid')) return { state: 'paid' };
  if (has('approved')) return { state: 'approved' };
  const waiting = byKind.get('waiting_for_approval');
  if (waiting) {
    const deadline = DEADLINE.exec(waiting.text)?.[1];
    return deadline ? { state: 'waiting_for_approval', deadline } : { state: 'waiting_for_approval' };
  }
  return { state: 'received' };
}

/**
 * The customer's name: the notification's own `customer` field, or for notifications published before it
 * existed, parsed from the `received` text ("Received order for <customer>: [items]. Total = n").
 */
export function customerOf(events: readonly Pick<Notification, 'kind' | 'text' | 'customer'>[]): string | undefined {
  for (const event of events) if (event.customer) return event.customer;
  const received = events.find((event) => event.kind === 'received');
  return received ? RECEIVED.exec(received.text)?.[1] : undefined;
}
