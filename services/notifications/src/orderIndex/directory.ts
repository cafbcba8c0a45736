// The order index's directory of creation times: 10-second buckets of order ids (appended once per order,
// when it is received), listed by a key per day, listed in turn by one key of days. Writes arriving
// together go in one write; the directory is written before the bucket, so a crash in between leaves an
// empty bucket, never a lost one. The list (listing.ts) walks it newest first.
import { BatchedUpdates } from '#shared/batched.ts';
import type { Notification } from '#shared/messages.ts';
import type { StateClient } from '#shared/state.ts';

export const BUCKET_MS = 10_000;

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

export const bucketStart = (at: number) => Math.floor(at / BUCKET_MS) * BUCKET_MS;
export const bucketKey = (start: number) => `index:bucket:${new Date(start).toISOString()}`;
export const dayOf = (at: number) => new Date(at).toISOString().slice(0, 10);
export const dayKey = (day: string) => `index:day:${day}`;
export const DAYS_KEY = 'index:days';

/** A sorted list with `item` added, or undefined when it is there already. */
function withItem<T>(list: readonly T[] | undefined, item: T): T[] | undefined {
  if (list?.includes(item)) return undefined;
  return [...(list ?? []), item].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

export class CreationDirectory {
  private readonly buckets: BatchedUpdates<Bucket>;
  private readonly days: BatchedUpdates<Days>;
  private readonly dayBuckets: BatchedUpdates<DayBuckets>;
  /** Buckets this process has made sure are in the directory (a recent few). */
  private readonly listed = new Map<number, Promise<void>>();

  constructor(
    store: StateClient,
    /** How long buckets and days are kept (their keys expire): older days leave the list of days. */
    private readonly retentionMs: number | undefined,
  ) {
    this.buckets = new BatchedUpdates(store);
    this.days = new BatchedUpdates(store);
    this.dayBuckets = new BatchedUpdates(store);
  }

  /** Adds the order to its creation bucket, after making sure the directory lists that bucket. */
  async file(notification: Notification): Promise<void> {
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

  private ensureListed(start: number): Promise<void> {
    let listed = this.listed.get(start);
    if (!listed) {
      const day = dayOf(start);
      listed = Promise.all([
        this.days.update(DAYS_KEY, (current) => {
          const days = withItem(current?.days, day);
          // Days whose buckets have all expired leave the list, so that it stays bounded.
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
}
