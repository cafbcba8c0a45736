// An order as the index lists it, derived from its timeline (the events the projection stored, in any
// order of arrival) by the shared lifecycle (#shared/lifecycle.ts), and from the marks of what no event
// says (purged, ended through Dapr directly). Pure, so that nothing is stored twice: the record is a view
// of the timeline, not a copy that could fall behind it.
import { isWatchdogFlag, lifecycleOf, rankOf, WATCHDOG_FLAGS } from '#shared/lifecycle.ts';
import type { Notification } from '#shared/messages.ts';
import type { IndexedOrder } from '#shared/orderProjection.ts';

export { type IndexedOrder, type IndexedStatus, type RunningEntry, runningEntryOf } from '#shared/orderProjection.ts';

/** `index:marks:<id>`: what orderprocessing told the index that no event says. */
export interface OrderMarks {
  /** Its workflow history was purged (DELETE /orders/:id, or found gone): the list leaves it out. */
  purged?: boolean;
  /** The engine ended it without a last step (the watchdog found it so), until an ending event says how. */
  ended?: { status: 'COMPLETED' | 'FAILED' | 'TERMINATED'; at: number };
}

type TimelineEvent = Pick<Notification, 'kind' | 'time' | 'customer' | 'deadline' | 'failedStep'>;

const byTime = (a: TimelineEvent, b: TimelineEvent) => a.time.localeCompare(b.time) || rankOf(a.kind) - rankOf(b.kind);

/** The order's earliest step (its `received`, unless that one never reached the index): its creation. */
export function earliestStep<E extends TimelineEvent>(events: readonly E[]): E | undefined {
  return events.filter((event) => !isWatchdogFlag(event.kind)).sort(byTime)[0];
}

/** The order's record, or undefined before its first step reached the index. */
export function recordOf(
  orderId: string,
  events: readonly TimelineEvent[],
  marks: OrderMarks = {},
): IndexedOrder | undefined {
  const lifecycle = lifecycleOf(events);
  const createdAt = earliestStep(events)?.time;
  if (!lifecycle || !createdAt) return undefined;
  const steps = events.filter((event) => !isWatchdogFlag(event.kind));
  const latest = steps.filter((event) => event.kind === lifecycle.latest).sort(byTime)[0];
  const record: IndexedOrder = {
    id: orderId,
    customer: events.find((event) => event.customer)?.customer ?? '',
    createdAt,
    updatedAt: latest?.time ?? createdAt,
    lastStep: lifecycle.latest,
    status: lifecycle.status,
  };
  // The events say how it ended; the engine's status stands in for them until they arrive.
  if (lifecycle.status === 'RUNNING' && marks.ended) {
    record.status = marks.ended.status;
    record.updatedAt = new Date(marks.ended.at).toISOString();
  }
  const waiting = steps.find((event) => event.kind === 'waiting_for_approval');
  if (waiting) {
    if (waiting.deadline) record.deadline = waiting.deadline;
    record.waitingSince = waiting.time;
    // Any step after the wait ends it (normally `approved`, but that one may not have arrived).
    const after = steps.filter((event) => rankOf(event.kind) > rankOf(waiting.kind)).sort(byTime)[0];
    if (after) record.waitedMs = Math.max(0, Date.parse(after.time) - Date.parse(waiting.time));
  }
  const flags = WATCHDOG_FLAGS.filter((flag) => events.some((event) => event.kind === flag));
  if (flags.length > 0) record.flags = flags;
  if (marks.purged) record.purged = true;
  return record;
}
