// An order's lifecycle, defined once: the kinds of event an order goes through, in the order the workflow
// publishes them, which kinds end an order (with the workflow status and the business state it ends
// with), and how an order's latest step, status and state follow from the kinds it has had. Every reader
// (the order index, the page's read model, the archive, the watchdog) derives from here, from the events'
// kinds and fields: no code reads an event's text, which is for people.

/** Every kind of order event, in the order the workflow publishes them; the watchdog's flags come last. */
export const EVENT_KINDS = [
  'received',
  'stock_reserved',
  'out_of_stock',
  'waiting_for_approval',
  'approved',
  'rejected',
  'cancelled',
  'approval_timed_out',
  'paid',
  'payment_failed',
  'shipping_failed',
  'compensated',
  'shipped',
  'stalled',
  'approval_deadline_near',
] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

/** Raised by orderprocessing's watchdog about a running order, at most once per order and kind: not steps. */
export const WATCHDOG_FLAGS = ['stalled', 'approval_deadline_near'] as const satisfies readonly EventKind[];
export type WatchdogFlag = (typeof WATCHDOG_FLAGS)[number];
export const isWatchdogFlag = (kind: EventKind): kind is WatchdogFlag =>
  (WATCHDOG_FLAGS as readonly EventKind[]).includes(kind);

/** The workflow's own steps. */
export type StepKind = Exclude<EventKind, WatchdogFlag>;
export const STEP_KINDS = EVENT_KINDS.filter((kind): kind is StepKind => !isWatchdogFlag(kind));

/** The workflow status of an order, as `GET /orders/:id` says it. */
export type WorkflowStatus = 'RUNNING' | 'COMPLETED' | 'FAILED';
/** The business state of an order, as the page shows it. */
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
/** The step whose failure failed an order (carried by `payment_failed`, `shipping_failed`, `compensated`). */
export const FAILED_STEPS = ['reservation', 'payment', 'shipping'] as const;
export type FailedStep = (typeof FAILED_STEPS)[number];

interface StepMeaning {
  /** The order's business state once this is its latest step. */
  state: OrderState;
  /** The order ends with this step, with this workflow status. */
  ends?: Exclude<WorkflowStatus, 'RUNNING'>;
  /** Why the order did not go on, in a few words (for `compensated`: from the step that failed). */
  reason?: string;
}

const MEANINGS: Record<StepKind, StepMeaning> = {
  received: { state: 'received' },
  stock_reserved: { state: 'received' },
  out_of_stock: { state: 'cancelled', ends: 'COMPLETED', reason: 'out of stock' },
  waiting_for_approval: { state: 'waiting_for_approval' },
  approved: { state: 'approved' },
  rejected: { state: 'cancelled', ends: 'COMPLETED', reason: 'rejected' },
  cancelled: { state: 'cancelled', ends: 'COMPLETED', reason: 'cancelled by an approver' },
  approval_timed_out: { state: 'cancelled', ends: 'COMPLETED', reason: 'approval timed out' },
  paid: { state: 'paid' },
  payment_failed: { state: 'failed', reason: 'payment failed' },
  shipping_failed: { state: 'failed', reason: 'shipping failed' },
  compensated: { state: 'failed', ends: 'FAILED' },
  shipped: { state: 'shipped', ends: 'COMPLETED' },
};

const RANK = new Map<EventKind, number>(EVENT_KINDS.map((kind, index) => [kind, index]));
/** A kind's place in the workflow's order: ties on time are broken by it, and an order only moves forward. */
export const rankOf = (kind: EventKind): number => RANK.get(kind) ?? -1;

/** The workflow status an order ends with at this step, or undefined when the step does not end it. */
export const endingOf = (kind: EventKind): Exclude<WorkflowStatus, 'RUNNING'> | undefined =>
  isWatchdogFlag(kind) ? undefined : MEANINGS[kind].ends;
export const isEnding = (kind: EventKind): boolean => endingOf(kind) !== undefined;

/** The workflow status of an order whose latest step is `step`. */
export const statusAfter = (step: StepKind): WorkflowStatus => MEANINGS[step].ends ?? 'RUNNING';

/**
 * Whether an order whose latest step is `latest` moves on with an event of `kind`: a later step does, while
 * the order runs; a repeated, late or flag event does not, and an ended order never moves again.
 */
export const movesOn = (latest: StepKind, kind: EventKind): boolean =>
  !isWatchdogFlag(kind) && !isEnding(latest) && rankOf(kind) > rankOf(latest);

/** The latest step among `kinds` (in the workflow's order, whatever order they arrived in). */
export function latestStep(kinds: Iterable<EventKind>): StepKind | undefined {
  let latest: StepKind | undefined;
  for (const kind of kinds) {
    if (!isWatchdogFlag(kind) && (latest === undefined || rankOf(kind) > rankOf(latest))) latest = kind;
  }
  return latest;
}

/** The event fields the lifecycle reads beside the kind. */
export interface LifecycleEvent {
  kind: EventKind;
  failedStep?: FailedStep | undefined;
}

/** An order as its events say: its latest step, workflow status and business state (with why, if it failed). */
export interface Lifecycle {
  latest: StepKind;
  status: WorkflowStatus;
  state: OrderState;
  reason?: string;
}

/** An order's lifecycle from the events it has had, in any order; undefined before its first step. */
export function lifecycleOf(events: readonly LifecycleEvent[]): Lifecycle | undefined {
  const latest = latestStep(events.map((event) => event.kind));
  if (!latest) return undefined;
  const { state, reason } = MEANINGS[latest];
  const lifecycle: Lifecycle = { latest, status: statusAfter(latest), state };
  if (latest === 'compensated') lifecycle.reason = `${failedStepOf(events)} failed`;
  else if (reason) lifecycle.reason = reason;
  return lifecycle;
}

/**
 * The step that failed a compensated order: the `failedStep` its events carry; for events stored before
 * they carried it, the furthest the order got (a failed payment announces itself, a paid order failed
 * shipping, an order that got neither failed its reservation).
 */
function failedStepOf(events: readonly LifecycleEvent[]): FailedStep {
  const carried = events.find((event) => event.failedStep)?.failedStep;
  if (carried) return carried;
  const kinds = new Set(events.map((event) => event.kind));
  if (kinds.has('payment_failed')) return 'payment';
  if (kinds.has('shipping_failed') || kinds.has('paid')) return 'shipping';
  return 'reservation';
}

/**
 * Whether a watchdog flag still applies to an order: `stalled` while it runs, `approval_deadline_near`
 * while it waits for approval.
 */
export function flagApplies(flag: WatchdogFlag, lifecycle: Lifecycle): boolean {
  return flag === 'stalled' ? lifecycle.status === 'RUNNING' : lifecycle.state === 'waiting_for_approval';
}
