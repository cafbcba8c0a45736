// The order index, the part of the order projection that GET /orders and orderprocessing's watchdog read
// (Dapr workflows have no list API), built from topic `notifications` by this service's subscription:
// one small record per order, 10-second creation buckets, a directory of days, a few shards of the running
// set, and each ended order's final summary. No key is rewritten by every order; why each write is shaped
// as it is: docs/architecture.md, "The order index".

import { KeyedMutex } from '#shared/lanes.ts';
import { endingOf, isEnding, isWatchdogFlag, rankOf, type WatchdogFlag } from '#shared/lifecycle.ts';
import type { Notification, NotificationKind } from '#shared/messages.ts';
import type { FinalSummary } from '#shared/orderProjection.ts';
import { createIfAbsent, type StateClient, updateState } from '#shared/state.ts';
import { CreationDirectory } from './directory.ts';
import {
  advanceRecord,
  type IndexedOrder,
  type IndexedStatus,
  mayChangeRunningEntry,
  newRecord,
  type RunningEntry,
  runningEntryAfter,
  runningEntryOf,
  withReceivedTime,
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

/** Steps whose record advance is deferred: nothing but the list's last step depends on them. */
const DEFERRED: ReadonlySet<NotificationKind> = new Set(['stock_reserved', 'paid']);

export const recordKey = (id: string) => `index:order:${id}`;
/** How an order ended: kept for good (ORDER_ID_RETENTION), the archive of an order whose history is purged. */
export const finalKey = (id: string) => `index:final:${id}`;
export interface OrderIndexOptions {
  /** Shards of the running set (a few: the watchdog reads them all). */
  runningShards?: number;
  /** How long a removal from the running set may wait for a ride with another write. */
  removalDelayMs?: number;
  /** How long the record advance of a step in the middle of an order waits for a later step to carry it. */
  advanceDelayMs?: number;
  /** Told of background writes that failed (they are repaired later, but worth a log line). */
  onBackgroundError?: (error: unknown) => void;
  /** How long the records and buckets are kept (their keys expire): older days leave the directory. */
  retentionMs?: number;
}

export class OrderIndex {
  private readonly directory: CreationDirectory;
  private readonly running: RunningSet;
  /** Deferred record advances, by order id: the latest step of each, and the timer that writes it. */
  private readonly deferred = new Map<string, { notification: Notification; timer: NodeJS.Timeout }>();
  private readonly advanceDelayMs: number;
  private readonly perOrder = new KeyedMutex();
  private readonly onBackgroundError: (error: unknown) => void;

  constructor(
    readonly store: StateClient,
    options: OrderIndexOptions = {},
  ) {
    this.advanceDelayMs = options.advanceDelayMs ?? 1000;
    this.onBackgroundError = options.onBackgroundError ?? (() => undefined);
    this.directory = new CreationDirectory(store, options.retentionMs);
    const shards = options.runningShards ?? 4;
    this.running = new RunningSet(store, shards, options.removalDelayMs ?? 1000, this.onBackgroundError);
  }

  /**
   * Takes one event into the index (the subscription calls it for each delivery): a step moves the order's
   * record on, a watchdog flag is noted, the ending step's result is kept as the order's final summary.
   * Safe to call twice or late: nothing moves backwards. Throws when the store fails, so the event is
   * redelivered; the deferred steps' advances are written in the background instead.
   */
  take(notification: Notification): Promise<void> {
    const { kind, orderId, result } = notification;
    // One order's events one after the other in this process (a delivery may hold several of an order):
    // the second finds what the first created instead of racing it to create it.
    return this.perOrder.run(orderId, async () => {
      if (isWatchdogFlag(kind)) return this.addFlag(orderId, kind);
      const status = endingOf(kind);
      const final: FinalSummary | undefined = status && result && { status, at: notification.time, ...result };
      await Promise.all([this.record(notification), final && createIfAbsent(this.store, finalKey(orderId), final)]);
    });
  }

  /** The summary of how the order ended, if it did. */
  async final(id: string): Promise<FinalSummary | undefined> {
    return (await this.store.getState<FinalSummary>(finalKey(id))).value;
  }

  /** Takes one step's notification into the record, the directory and the running set. */
  async record(notification: Notification): Promise<void> {
    if (isWatchdogFlag(notification.kind)) return;
    if (DEFERRED.has(notification.kind)) {
      this.defer(notification);
      return;
    }
    // A later step carries the record past a deferred one (an earlier one, e.g. a retry's copy, does not).
    const pending = this.deferred.get(notification.orderId)?.notification;
    if (pending && rankOf(notification.kind) > rankOf(pending.kind)) this.undefer(notification.orderId);
    await this.recordNow(notification);
  }

  private async recordNow(notification: Notification): Promise<void> {
    if (notification.kind === 'received') {
      const [stored] = await Promise.all([
        this.createRecord(notification),
        this.directory.file(notification),
        this.track(notification),
      ]);
      await this.fileUnderRecord(stored, notification);
      return;
    }
    const before = await this.advance(notification);
    // Most steps leave the running set as it is: only the approval wait and the end change it there.
    if (before && mayChangeRunningEntry(before, notification)) await this.track(notification);
    if (!before) {
      // The index never heard of this order (placed before it existed): file it under this step's time.
      const record = newRecord(notification);
      const running = record.status === 'RUNNING';
      const [stored] = await Promise.all([
        this.createRecord(notification),
        this.directory.file(notification),
        running ? this.running.update(record.id, (entry) => entry ?? runningEntryOf(record)) : undefined,
      ]);
      await this.fileUnderRecord(stored, notification);
    }
  }

  /**
   * The list shows a bucket entry only when its time is the record's creation time. A step tried again
   * announces itself again, later: when its record was created by the first try, the order is filed under
   * that time too (the first try may have failed before it filed it).
   */
  private async fileUnderRecord(stored: IndexedOrder, notification: Notification): Promise<void> {
    if (stored.purged || stored.createdAt === notification.time) return;
    await this.directory.file({ ...notification, time: stored.createdAt, customer: stored.customer });
  }

  /**
   * Takes an end the engine knows of and no step announced (a workflow terminated through Dapr directly):
   * the record gets the engine's status, the watchdog forgets the order.
   */
  async markEnded(id: string, status: Exclude<IndexedStatus, 'RUNNING'>, now: number): Promise<void> {
    await updateState<IndexedOrder, void>(this.store, recordKey(id), (current) =>
      current?.status === 'RUNNING'
        ? { next: { ...current, status, updatedAt: new Date(now).toISOString() }, result: undefined }
        : { result: undefined },
    );
    await this.running.update(id, () => null);
  }

  /** Marks a purged order: the list leaves it out, the watchdog forgets it. */
  async markPurged(id: string): Promise<void> {
    await updateState<IndexedOrder, void>(this.store, recordKey(id), (current) =>
      current && !current.purged ? { next: { ...current, purged: true }, result: undefined } : { result: undefined },
    );
    await this.running.update(id, () => null);
  }

  async find(id: string): Promise<IndexedOrder | undefined> {
    return (await this.store.getState<IndexedOrder>(recordKey(id))).value;
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

  /** Notes a watchdog flag on the record and on the running entry. */
  async addFlag(id: string, flag: WatchdogFlag): Promise<void> {
    const add = <T extends { flags?: WatchdogFlag[] }>(value: T): T | undefined =>
      value.flags?.includes(flag) ? undefined : { ...value, flags: [...(value.flags ?? []), flag] };
    await Promise.all([
      updateState<IndexedOrder, void>(this.store, recordKey(id), (current) => {
        const next = current && add(current);
        return next ? { next, result: undefined } : { result: undefined };
      }),
      this.running.update(id, (entry) => (entry ? add(entry) : undefined)),
    ]);
  }

  /** Writes the deferred record advances and the removals that are still waiting for a ride (on shutdown). */
  async flush(): Promise<void> {
    const deferred = [...this.deferred.keys()].map((id) => this.undefer(id));
    await Promise.all([
      ...deferred.map((notification) => notification && this.recordNow(notification)),
      this.running.flush(),
    ]);
  }

  /** Holds the step's advance back for a while; a later step of the order replaces it. */
  private defer(notification: Notification): void {
    const { orderId, kind } = notification;
    const pending = this.deferred.get(orderId);
    if (pending && rankOf(pending.notification.kind) >= rankOf(kind)) return;
    clearTimeout(pending?.timer);
    const timer = setTimeout(() => {
      if (this.deferred.get(orderId)?.timer !== timer) return;
      this.deferred.delete(orderId);
      this.recordNow(notification).catch(this.onBackgroundError);
    }, this.advanceDelayMs).unref();
    this.deferred.set(orderId, { notification, timer });
  }

  /** Drops the order's deferred advance and returns it. */
  private undefer(orderId: string): Notification | undefined {
    const pending = this.deferred.get(orderId);
    if (!pending) return undefined;
    clearTimeout(pending.timer);
    this.deferred.delete(orderId);
    return pending.notification;
  }

  // ---- the record ---------------------------------------------------------------------------------

  /**
   * Creates the record (one write, no read); one that exists is left alone, unless it was purged. Returns
   * the record as stored.
   */
  private async createRecord(notification: Notification): Promise<IndexedOrder> {
    const key = recordKey(notification.orderId);
    const fresh = newRecord(notification);
    if (await createIfAbsent(this.store, key, fresh)) return fresh;
    // The id of a purged order, placed again, starts a new record (a late copy of the old order's step
    // does not); otherwise someone else created it first.
    return updateState<IndexedOrder, IndexedOrder>(this.store, key, (current) => {
      const placedAgain = current?.purged && Date.parse(notification.time) > Date.parse(current.updatedAt);
      const next =
        !current || placedAgain
          ? fresh
          : (advanceRecord(current, notification) ?? withReceivedTime(current, notification));
      return next ? { next, result: next } : { result: current as IndexedOrder };
    });
  }

  /** Moves the record on; returns it as it was, or null when there is no record. */
  private advance(notification: Notification): Promise<IndexedOrder | null> {
    return updateState<IndexedOrder, IndexedOrder | null>(this.store, recordKey(notification.orderId), (current) => {
      if (!current) return { result: null };
      const next = advanceRecord(current, notification);
      return next ? { next, result: current } : { result: current };
    });
  }

  /** The running set after the step: ended orders leave it with the shard's next write. */
  private track(notification: Notification): Promise<void> {
    const { orderId, kind } = notification;
    if (isEnding(kind)) {
      this.running.remove(orderId);
      return Promise.resolve();
    }
    return this.running.update(orderId, (entry) => runningEntryAfter(entry, notification));
  }
}
