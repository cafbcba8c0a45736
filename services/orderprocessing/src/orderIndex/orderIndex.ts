// The index of orders in orderprocessing's state store (Dapr workflows have no list API), kept current by
// the workflow's own steps: one small record per order, 10-second creation buckets, a directory of days,
// and a few shards of the running set for the watchdog. No key is rewritten by every order; why each
// write is shaped as it is: docs/architecture.md, "The order index".

import { BatchedUpdates } from '#shared/batched.ts';
import { isWatchdogFlag, type Notification, type NotificationKind, type WatchdogFlag } from '#shared/messages.ts';
import { createIfAbsent, type StateClient, updateState } from '#shared/state.ts';
import {
  advanceRecord,
  ENDINGS,
  type IndexedOrder,
  type IndexedStatus,
  mayChangeRunningEntry,
  newRecord,
  type RunningEntry,
  rankOf,
  runningEntryAfter,
  runningEntryOf,
} from './model.ts';

export const BUCKET_MS = 10_000;

/** Steps whose record advance is deferred: nothing but the list's last step depends on them. */
const DEFERRED: ReadonlySet<NotificationKind> = new Set(['stock_reserved', 'paid']);

export interface BucketEntry {
  id: string;
  /** Creation time (ms): the record's `createdAt`. */
  at: number;
  customer: string;
}
export interface Bucket {
  entries: BucketEntry[];
}
export interface DayBuckets {
  /** Starts (ms) of the day's buckets that hold orders, ascending. */
  buckets: number[];
}
export interface Days {
  /** YYYY-MM-DD, ascending. */
  days: string[];
}
export interface RunningShard {
  orders: Record<string, RunningEntry>;
}

export const recordKey = (id: string) => `index:order:${id}`;
export const bucketStart = (at: number) => Math.floor(at / BUCKET_MS) * BUCKET_MS;
export const bucketKey = (start: number) => `index:bucket:${new Date(start).toISOString()}`;
export const dayOf = (at: number) => new Date(at).toISOString().slice(0, 10);
export const dayKey = (day: string) => `index:day:${day}`;
export const DAYS_KEY = 'index:days';
export const runningKey = (shard: number) => `index:running:${shard}`;

/** FNV-1a, to spread ids over the running set's shards. */
function shardOf(id: string, shards: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) hash = Math.imul(hash ^ id.charCodeAt(i), 0x01000193);
  return (hash >>> 0) % shards;
}

/** A sorted list with `item` added, or undefined when it is there already. */
function withItem<T>(list: readonly T[] | undefined, item: T): T[] | undefined {
  if (list?.includes(item)) return undefined;
  return [...(list ?? []), item].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

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
  readonly shards: number;
  private readonly buckets: BatchedUpdates<Bucket>;
  private readonly days: BatchedUpdates<Days>;
  private readonly dayBuckets: BatchedUpdates<DayBuckets>;
  private readonly running: BatchedUpdates<RunningShard>;
  /** Buckets this process has made sure are in the directory (a recent few). */
  private readonly listed = new Map<number, Promise<void>>();
  private readonly removals = new Map<number, Set<string>>();
  private removalTimer: NodeJS.Timeout | undefined;
  private readonly removalDelayMs: number;
  /** Deferred record advances, by order id: the latest step of each, and the timer that writes it. */
  private readonly deferred = new Map<string, { notification: Notification; timer: NodeJS.Timeout }>();
  private readonly advanceDelayMs: number;
  private readonly onBackgroundError: (error: unknown) => void;
  private readonly retentionMs: number | undefined;

  constructor(
    readonly store: StateClient,
    options: OrderIndexOptions = {},
  ) {
    this.shards = options.runningShards ?? 4;
    this.removalDelayMs = options.removalDelayMs ?? 1000;
    this.advanceDelayMs = options.advanceDelayMs ?? 1000;
    this.onBackgroundError = options.onBackgroundError ?? (() => undefined);
    this.retentionMs = options.retentionMs;
    this.buckets = new BatchedUpdates(store);
    this.days = new BatchedUpdates(store);
    this.dayBuckets = new BatchedUpdates(store);
    this.running = new BatchedUpdates(store);
  }

  /**
   * Takes one step's notification into the index (the activities call it beside the publish). Safe to call
   * twice or late: nothing moves backwards. Throws when the store fails, so the step is retried; the
   * deferred steps' advances are written in the background instead.
   */
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
        this.file(notification),
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
        this.file(notification),
        running ? this.updateRunningEntry(record.id, (entry) => entry ?? runningEntryOf(record)) : undefined,
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
    await this.file({ ...notification, time: stored.createdAt, customer: stored.customer });
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
    await this.updateRunningEntry(id, () => null);
  }

  /** Marks a purged order: the list leaves it out, the watchdog forgets it. */
  async markPurged(id: string): Promise<void> {
    await updateState<IndexedOrder, void>(this.store, recordKey(id), (current) =>
      current && !current.purged ? { next: { ...current, purged: true }, result: undefined } : { result: undefined },
    );
    await this.updateRunningEntry(id, () => null);
  }

  async find(id: string): Promise<IndexedOrder | undefined> {
    return (await this.store.getState<IndexedOrder>(recordKey(id))).value;
  }

  /** Every entry of the running set (shards read in parallel). */
  async runningOrders(): Promise<Array<[string, RunningEntry]>> {
    const shards = await Promise.all(
      Array.from({ length: this.shards }, (_, n) => this.store.getState<RunningShard>(runningKey(n))),
    );
    return shards.flatMap((shard) => Object.entries(shard.value?.orders ?? {}));
  }

  /** Drops a running-set entry, or sets it anew from the record (the watchdog's repairs). */
  repairRunning(id: string, record: IndexedOrder | undefined): Promise<void> {
    const running = record && !record.purged && record.status === 'RUNNING';
    return this.updateRunningEntry(id, () => (running ? runningEntryOf(record) : null));
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
      this.updateRunningEntry(id, (entry) => (entry ? add(entry) : undefined)),
    ]);
  }

  /** Writes the deferred record advances and the removals that are still waiting for a ride (on shutdown). */
  async flush(): Promise<void> {
    clearTimeout(this.removalTimer);
    this.removalTimer = undefined;
    const deferred = [...this.deferred.keys()].map((id) => this.undefer(id));
    await Promise.all([
      ...deferred.map((notification) => notification && this.recordNow(notification)),
      ...[...this.removals.keys()].map((shard) => this.writeRemovals(shard)),
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
      const next = !current || placedAgain ? fresh : advanceRecord(current, notification);
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

  // ---- the time buckets -----------------------------------------------------------------------------

  /** Adds the order to its creation bucket, after making sure the directory lists that bucket. */
  private async file(notification: Notification): Promise<void> {
    const at = Date.parse(notification.time);
    const start = bucketStart(at);
    await this.ensureListed(start);
    const entry: BucketEntry = { id: notification.orderId, at, customer: notification.customer ?? '' };
    await this.buckets.update(bucketKey(start), (bucket) =>
      bucket?.entries.some((known) => known.id === entry.id && known.at === entry.at)
        ? undefined
        : { entries: [...(bucket?.entries ?? []), entry] },
    );
  }

  /** The directory is written before the bucket, so a crash in between leaves an empty bucket, never a lost one. */
  private ensureListed(start: number): Promise<void> {
    let listed = this.listed.get(start);
    if (!listed) {
      const day = dayOf(start);
      listed = Promise.all([
        this.days.update(DAYS_KEY, (current) => {
          const days = withItem(current?.days, day);
          // Days whose buckets have all expired leave the directory, so that it stays bounded.
          const oldest = this.retentionMs === undefined ? '' : dayOf(start - this.retentionMs - 86_400_000);
          return days && { days: days.filter((kept) => kept >= oldest) };
        }),
        this.dayBuckets.update(dayKey(day), (current) => {
          const buckets = withItem(current?.buckets, start);
          return buckets && { buckets };
        }),
      ]).then(() => undefined);
      this.listed.set(start, listed);
      listed.catch(() => this.listed.delete(start));
      if (this.listed.size > 64) this.listed.delete(this.listed.keys().next().value as number);
    }
    return listed;
  }

  // ---- the running set ------------------------------------------------------------------------------

  private track(notification: Notification): Promise<void> {
    const { orderId, kind } = notification;
    if (ENDINGS[kind]) {
      this.queueRemoval(orderId);
      return Promise.resolve();
    }
    return this.updateRunningEntry(orderId, (entry) => runningEntryAfter(entry, notification));
  }

  private updateRunningEntry(id: string, change: (entry: RunningEntry | undefined) => RunningEntry | null | undefined) {
    const shard = shardOf(id, this.shards);
    const removals = this.takeRemovals(shard);
    return this.running.update(runningKey(shard), (current) => {
      const orders = { ...current?.orders };
      let changed = false;
      for (const removed of removals) {
        if (removed in orders) {
          delete orders[removed];
          changed = true;
        }
      }
      const next = change(orders[id]);
      if (next === null && id in orders) {
        delete orders[id];
        changed = true;
      }
      if (next) {
        orders[id] = next;
        changed = true;
      }
      return changed ? { orders } : undefined;
    });
  }

  private queueRemoval(id: string): void {
    const shard = shardOf(id, this.shards);
    const pending = this.removals.get(shard) ?? new Set();
    pending.add(id);
    this.removals.set(shard, pending);
    this.removalTimer ??= setTimeout(() => {
      this.removalTimer = undefined;
      void this.flush().catch(this.onBackgroundError);
    }, this.removalDelayMs).unref();
  }

  private takeRemovals(shard: number): string[] {
    const pending = this.removals.get(shard);
    this.removals.delete(shard);
    return pending ? [...pending] : [];
  }

  private writeRemovals(shard: number): Promise<void> {
    const removals = this.takeRemovals(shard);
    if (removals.length === 0) return Promise.resolve();
    return this.running.update(runningKey(shard), (current) => {
      if (!current || !removals.some((id) => id in current.orders)) return undefined;
      const orders = { ...current.orders };
      for (const id of removals) delete orders[id];
      return { orders };
    });
  }
}
