// What an order's notifications say about it on the page: its state, from the set of kinds seen so far by
// the shared lifecycle (#shared/lifecycle.ts), whatever order they arrived in (pub/sub may reorder), with
// the data the page shows beside it (deadline, flags) taken from the events' fields. No text is read.
import { flagApplies, lifecycleOf, type OrderState, WATCHDOG_FLAGS, type WatchdogFlag } from '#shared/lifecycle.ts';
import type { Notification } from '#shared/messages.ts';

export { ORDER_STATES, type OrderState } from '#shared/lifecycle.ts';

export interface DerivedState {
  state: OrderState;
  /** Why an order was cancelled or failed, in a few words. */
  reason?: string;
  /** While waiting for approval: when the order is released unless someone approves it. */
  deadline?: string;
  /** What orderprocessing's watchdog raised about the order, while it still applies (the page marks it). */
  flags?: WatchdogFlag[];
}

type StateEvent = Pick<Notification, 'kind' | 'deadline' | 'failedStep'>;

export function deriveState(events: readonly StateEvent[]): DerivedState {
  const lifecycle = lifecycleOf(events) ?? { latest: 'received', status: 'RUNNING', state: 'received' };
  const { state, reason } = lifecycle;
  const derived: DerivedState = reason ? { state, reason } : { state };
  if (state === 'waiting_for_approval') {
    const deadline = events.find((event) => event.kind === 'waiting_for_approval')?.deadline;
    if (deadline) derived.deadline = deadline;
  }
  const kinds = new Set(events.map((event) => event.kind));
  const flags = WATCHDOG_FLAGS.filter((flag) => kinds.has(flag) && flagApplies(flag, lifecycle));
  return flags.length > 0 ? { ...derived, flags } : derived;
}

/** The customer's name: every event of the workflow and the watchdog carries it. */
export function customerOf(events: readonly Pick<Notification, 'customer'>[]): string | undefined {
  return events.find((event) => event.customer)?.customer;
}
