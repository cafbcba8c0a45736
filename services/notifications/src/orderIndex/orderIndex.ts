// The order index, the part of the order projection that GET /orders and orderprocessing's watchdog read
// (Dapr workflows have no list API), built from topic `notifications` by this service's subscription. An
// order's record is not stored: it is derived from the order's timeline (model.ts). Stored are what a list
// and the watchdog need to find orders: 10-second creation buckets and a directory of days, a few shards
// of the running set, each ended order's final summary, and the marks no event says. Why: docs/architecture.md.

import { KeyedMutex } from '#shared/lanes.ts';
import { endingOf, isEnding, isWatchdogFlag, rankOf, type WatchdogFlag } from '#shared/lifecycle.ts';
import type { Notification } from '#shared/messages.ts';
import type { FinalSummary } from '#shared/orderProjection.ts';
import { createIfAbsent, type StateClient, updateState } from '#shared/state.ts';
import { type OrderTimeline, timelineKey } from '../timelines.ts';
import { CreationDirectory } from './directory.ts';
import {
  earliestStep,
  type IndexedOrder,
  type IndexedStatus,
  type OrderMarks,
  type RunningEntry,
  recordOf,
  runningEntryOf,
} from './model.ts';
import { RunningSet } from './runningSet.ts';

export {
  BUCKET_MS,
  type Bucket,
  type BucketEntry,
  bucketKey,
  bucketStart,
  DAYS_KEY,
  type DayBuckets,
  type Days,
  dayKey,
  dayOf,
} from './directory.ts';
export { type RunningShard, runningKey } from './runningSet.ts';

/** What no event says about an order (purged, ended through Dapr directly); most orders have none. */
export const marksKey = (id: string) => `index:marks:${id}`;
/** How an order ended: kept for good (ORDER_ID_RETENTION), the archive of an order whose history is purged. */
export const finalKey = (id: string) => `index:final:${id}`;

export interface OrderIndexOptions {
  /** Shards of the running set (a few: the watchdog reads them all). */
  runningShards?: number;
  /** How long a removal from the running set may wait for a ride with another write. */
  removalDelayMs?: number;
  /** Told of background writes that failed (they are repaired later, but worth a log line). */
  onBackgroundError?: (error: unknown) => void;
  /** How long the buckets are kept (their keys expire): older days leave the directory. */
  retentionMs?: number;
}

/** The record of an order from its timeline and marks as read together (the list reads many at once). */
export function recordFrom(
  orderId: string,
  timeline: OrderTimeline | undefined,
  marks: OrderMarks | undefined,
): IndexedOrder | undefined {
  return timeline ? recordOf(orderId, timeline.events, marks) : undefined;
}

export class OrderIndex {
  private readonly directory: CreationDirectory;
  private readonly running: RunningSet;
  private readonly perOrder = new KeyedMutex();

  constructor(
    readonly store: StateClient,
    options: OrderIndexOptions = {},
  ) {
    const onBackgroundError = options.onBackgroundError ?? (() => undefined);
    this.directory = new CreationDirectory(store, options.retentionMs);
    const shards = options.runningShards ?? 4;
    this.running = new RunningSet(store, shards, options.removalDelayMs ?? 1000, onBackgroundError);
  }

  /**
   * Takes one event into the index, once it is in the order's timeline (`timeline`, as stored with it): the
   * order is filed under its creation time, the running set follows its approval wait and its end, a flag
   * is noted there, and the ending step's result is kept as the order's final summary. Safe to call twice
   * or late: each write is set from the timeline, or create-only. Throws when the store fails, so the
   * event is redelivered.
   */
  take(notification: Notification, timeline: OrderTimeline): Promise<void> {
    const { kind, orderId, result } = notification;
    // One order's events one after the other in this process (a delivery may hold several of an order).
    return this.perOrder.run(orderId, async () => {
      if (isWatchdogFlag(kind)) return this.running.update(orderId, (entry) => withFlag(entry, kind));
      const record = recordOf(orderId, timeline.events);
      if (!record) return;
      const status = endingOf(kind);
      const final: FinalSummary | undefined = status && result && { status, at: notification.time, ...result };
      // The order's earliest event files it, under the time the timeline holds for it (a retried step's copy
      // comes later: the first try may have failed before it filed it). One that arrived before it filed the
      // order under its own time; the list shows only the entry at the record's creation time.
      const earliest = earliestStep(timeline.events);
      const first = earliest?.id === notification.id;
      await Promise.all([
        first && earliest ? this.directory.file(earliest) : undefined,
        this.track(notification, record, first),
        final && createIfAbsent(this.store, finalKey(orderId), final),
      ]);
    });
  }

  /** The summary of how the order ended, if it did. */
  async final(id: string): Promise<FinalSummary | undefined> {
    return (await this.store.getState<FinalSummary>(finalKey(id))).value;
  }

  /** The order's record, from its timeline and marks. */
  async find(id: string): Promise<IndexedOrder | undefined> {
    const [timeline, marks] = await this.store.getStates<unknown>([timelineKey(id), marksKey(id)]);
    return recordFrom(id, timeline?.value as OrderTimeline | undefined, marks?.value as OrderMarks | undefined);
  }

  /**
   * Takes an end the engine knows of and no step announced (a workflow terminated through Dapr directly):
   * the record shows the engine's status until an ending event says otherwise; the watchdog forgets it.
   */
  async markEnded(id: string, status: Exclude<IndexedStatus, 'RUNNING'>, now: number): Promise<void> {
    await this.mark(id, (marks) => (marks.ended ? undefined : { ...marks, ended: { status, at: now } }));
    await this.running.update(id, () => null);
  }

  /**
   * Marks a purged order: the list leaves it out, the watchdog forgets it. `final` is how it ended as the
   * engine knew it: kept unless the last step's summary is there (its event may still be on its way).
   */
  async markPurged(id: string, final?: FinalSummary): Promise<void> {
    if (final) await createIfAbsent(this.store, finalKey(id), final);
    await this.mark(id, (marks) => (marks.purged ? undefined : { ...marks, purged: true }));
    await this.running.update(id, () => null);
  }

  /** Every entry of the running set. */
  runningOrders(): Promise<Array<[string, RunningEntry]>> {
    return this.running.entries();
  }

  /** Shards of the running set. */
  get shards(): number {
    return this.running.shards;
  }

  /** Drops a running-set entry, or sets it anew from the record (the watchdog's repairs). */
  repairRunning(id: string, record: IndexedOrder | undefined): Promise<void> {
    const running = record && !record.purged && record.status === 'RUNNING';
    return this.running.update(id, () => (running ? runningEntryOf(record) : null));
  }

  /** Writes the removals from the running set that are still waiting for a ride (on shutdown). */
  flush(): Promise<void> {
    return this.running.flush();
  }

  private mark(id: string, change: (marks: OrderMarks) => OrderMarks | undefined): Promise<void> {
    return updateState<OrderMarks, void>(this.store, marksKey(id), (current) => {
      const next = change(current ?? {});
      return next ? { next, result: undefined } : { result: undefined };
    });
  }

  /**
   * The running set after the step: the order is added with its first step (its received, normally), its
   * entry follows the approval wait (set from the record when the wait begins and when a step after it
   * arrives), and it leaves with the end (riding along with the shard's next write). Other steps leave
   * the running set alone.
   */
  private track(notification: Notification, record: IndexedOrder, first: boolean): Promise<void> | undefined {
    const { orderId, kind } = notification;
    if (isEnding(kind) || record.status !== 'RUNNING') {
      this.running.remove(orderId);
      return undefined;
    }
    const waitChanges =
      kind === 'waiting_for_approval' ||
      (record.waitingSince !== undefined && rankOf(kind) > rankOf('waiting_for_approval'));
    if (!first && kind !== 'received' && !waitChanges) return undefined;
    const entry = runningEntryOf(record);
    return this.running.update(orderId, (current) =>
      current && sameEntry(current, entry)
        ? undefined
        : { ...entry, ...(current?.flags ? { flags: current.flags } : {}) },
    );
  }
}

function withFlag(entry: RunningEntry | undefined, flag: WatchdogFlag): RunningEntry | undefined {
  if (!entry || entry.flags?.includes(flag)) return undefined;
  return { ...entry, flags: [...(entry.flags ?? []), flag] };
}

const sameEntry = (a: RunningEntry, b: RunningEntry) =>
  a.createdAt === b.createdAt &&
  a.deadline === b.deadline &&
  a.waitingSince === b.waitingSince &&
  a.waitedMs === b.waitedMs;
