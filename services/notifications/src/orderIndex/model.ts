// What the order index stores, and how one step's notification changes it. Pure functions, so that an
// ETag retry can apply them again to the fresh value, and so that a step that arrives twice or late
// changes nothing: an order moves as the shared lifecycle says (#shared/lifecycle.ts), only forward in
// the workflow's order of kinds, and a finished one never moves again.
import { isEnding, movesOn, type StepKind, statusAfter } from '#shared/lifecycle.ts';
import type { Notification } from '#shared/messages.ts';
import type { IndexedOrder, RunningEntry } from '#shared/orderProjection.ts';

export { type IndexedOrder, type IndexedStatus, type RunningEntry, runningEntryOf } from '#shared/orderProjection.ts';

const WAITING = 'waiting_for_approval';
const ms = (iso: string) => Date.parse(iso);

/** The record of an order first heard of through `notification` (normally its `received` step). */
export function newRecord(notification: Notification): IndexedOrder {
  const received: IndexedOrder = {
    id: notification.orderId,
    customer: notification.customer ?? '',
    createdAt: notification.time,
    updatedAt: notification.time,
    lastStep: 'received',
    status: 'RUNNING',
  };
  return advanceRecord(received, notification) ?? received;
}

/**
 * The record after `notification`, or undefined when it changes nothing (a duplicate, a late step, an end).
 * An order the watchdog marked ended from the engine's view (markEnded) still takes its ending event, which
 * may have been on its way: the events say how it ended, the engine's status only stands in for them.
 */
export function advanceRecord(record: IndexedOrder, notification: Notification): IndexedOrder | undefined {
  const { kind, time } = notification;
  const open = record.status === 'RUNNING' || isEnding(kind);
  if (record.purged || !open || !movesOn(record.lastStep, kind)) return undefined;
  const lastStep = kind as StepKind; // movesOn takes steps only
  const next: IndexedOrder = { ...record, lastStep, updatedAt: time, status: statusAfter(lastStep) };
  if (kind === WAITING) {
    if (notification.deadline) next.deadline = notification.deadline;
    next.waitingSince = time;
  } else if (record.waitingSince && record.waitedMs === undefined) {
    // Any step after the wait ends it (normally `approved`, but that one may have been missed).
    next.waitedMs = Math.max(0, ms(time) - ms(record.waitingSince));
  }
  return next;
}

/**
 * The record with the creation time of its `received` step, when a later step reached the index first (two
 * events of an order delivered at once, or out of order) and created the record with its own time.
 */
export function withReceivedTime(record: IndexedOrder, notification: Notification): IndexedOrder | undefined {
  if (notification.kind !== 'received' || Date.parse(notification.time) >= Date.parse(record.createdAt)) return;
  return { ...record, createdAt: notification.time };
}

/**
 * The running set's entry after `notification`: `undefined` to leave it as it is, `null` to remove it.
 * Only what the watchdog needs changes it: received (add), the approval wait (begins, ends), an ending.
 */
export function runningEntryAfter(
  entry: RunningEntry | undefined,
  notification: Notification,
): RunningEntry | null | undefined {
  const { kind } = notification;
  const time = ms(notification.time);
  if (isEnding(kind)) return entry ? null : undefined;
  if (kind === 'received') return entry ? undefined : { createdAt: time };
  if (!entry) return undefined;
  if (kind === WAITING) {
    if (entry.waitingSince !== undefined || entry.waitedMs !== undefined) return undefined;
    const { deadline } = notification;
    return { ...entry, waitingSince: time, ...(deadline ? { deadline: ms(deadline) } : {}) };
  }
  if (entry.waitingSince !== undefined && entry.waitedMs === undefined) {
    const { deadline: _deadline, ...rest } = entry;
    return { ...rest, waitedMs: Math.max(0, time - entry.waitingSince) };
  }
  return undefined;
}

/**
 * Whether `notification` may change the order's running-set entry, told from the order's record as it was
 * before the step, so that the steps in between leave the running set alone: an ending removes the entry,
 * and the approval wait changes it when it begins and when the first step after it ends it.
 */
export function mayChangeRunningEntry(before: IndexedOrder, notification: Notification): boolean {
  const { kind } = notification;
  if (kind === 'received' || kind === WAITING || isEnding(kind)) return true;
  return before.waitingSince !== undefined && before.waitedMs === undefined;
}
