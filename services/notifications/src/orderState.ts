// What an order's notifications say about it: its current state, derived from the set of kinds seen so
// far. The derivation does not depend on the order in which notifications arrive (pub/sub may reorder).
import {
  type Notification,
  type NotificationKind,
  NotificationKind as NotificationKindSchema,
  WATCHDOG_FLAGS,
  type WatchdogFlag,
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
  /** What orderprocessing's watchdog raised about the order, while it still applies (the page marks it). */
  flags?: WatchdogFlag[];
}

const DEADLINE = /Deadline = (\d{4}-\d{2}-\d{2}T[\d:.]+Z)/;
const RECEIVED = /^Received order for (.*): \[[^\]]*\]\. Total = [\d.]+$/s;

type StateEvent = Pick<Notification, 'kind' | 'text' | 'deadline'>;

export function deriveState(events: readonly StateEvent[]): DerivedState {
  const byKind = new Map(events.map((event) => [event.kind, event]));
  const derived = stateOf(byKind);
  // A stalled order stays marked until it ends; "deadline near" only while it still waits.
  const applies = (flag: WatchdogFlag) =>
    flag === 'stalled' ? !FINAL.has(derived.state) : derived.state === 'waiting_for_approval';
  const flags = WATCHDOG_FLAGS.filter((flag) => byKind.has(flag) && applies(flag));
  return flags.length > 0 ? { ...derived, flags } : derived;
}

const FINAL = new Set<OrderState>(['shipped', 'failed', 'cancelled']);

function stateOf(byKind: ReadonlyMap<NotificationKind, StateEvent>): DerivedState {
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
    const deadline = waiting.deadline ?? DEADLINE.exec(waiting.text)?.[1];
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
