// What the order index stores, and how one step's notification changes it. Pure functions, so that an
// ETag retry can apply them again to the fresh value, and so that a step that arrives twice or late
// changes nothing: an order moves as the shared lifecycle says (#shared/lifecycle.ts), only forward in
// the workflow's order of kinds, and a finished one never moves again.
import { isEnding, movesOn, type StepKind, statusAfter, type WatchdogFlag } from '#shared/lifecycle.ts';
import type { Notification } from '#shared/messages.ts';

/** As the workflow ends; TERMINATED only when someone ended it through Dapr directly (no step says so). */
export type IndexedStatus = 'RUNNING' | 'COMPLETED' | 'FAILED' | 'TERMINATED';

/** `index:order:<id>`: one small record per order, rewritten by its own steps only. */
export interface IndexedOrder {
  id: string;
  customer: string;
  /** The time of the order's first step (`received`); the list is ordered by it. */
  createdAt: string;
  /** The time of its latest step. */
  updatedAt: string;
  lastStep: StepKind;
  status: IndexedStatus;
  /** While waiting for approval (and after): when the order is released unless someone approves it. */
  deadline?: string;
  /** When the approval wait began. */
  waitingSince?: string;
  /** How long the approval wait lasted, once it is over (the watchdog does not count it as running). */
  waitedMs?: number;
  /** What the watchdog raised about the order. */
  flags?: WatchdogFlag[];
  /** Its workflow history was purged (DELETE /orders/:id): the list leaves it out. */
  purged?: boolean;
}

/**
 * An entry of the running set (`index:running:<shard>`): what the watchdog needs to tell, without reading
 * the record, whether the order may be due (times in ms). Added when the order is received, removed when it
 * ends; the record stays the truth, and the watchdog checks it before it flags anything.
 */
export interface RunningEntry {
  createdAt: number;
  deadline?: number;
  waitingSince?: number;
  waitedMs?: number;
  flags?: WatchdogFlag[];
}

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

/** The record after `notification`, or undefined when it changes nothing (a duplicate, a late step, an end). */
export function advanceRecord(record: IndexedOrder, notification: Notification): IndexedOrder | undefined {
  const { kind, time } = notification;
  if (record.purged || record.status !== 'RUNNING' || !movesOn(record.lastStep, kind)) return undefined;
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

/** The running-set entry that a record implies (to repair one that went stale). */
export function runningEntryOf(record: IndexedOrder): RunningEntry {
  const waitOver = record.waitedMs !== undefined;
  return {
    createdAt: ms(record.createdAt),
    ...(record.waitingSince ? { waitingSince: ms(record.waitingSince) } : {}),
    ...(record.deadline && !waitOver ? { deadline: ms(record.deadline) } : {}),
    ...(waitOver ? { waitedMs: record.waitedMs } : {}),
    ...(record.flags?.length ? { flags: [...record.flags] } : {}),
  };
}
