// GET /orders over the index (orderprocessing passes the request on): newest first, by walking the
// directory (days, then each day's buckets) from the cursor's position backwards, reading the timelines
// (and marks) of the bucket entries that pass the filters the entries can answer (time, customer), then
// the ones only records can (status, last step). A page reads a bounded number of keys: when the filters
// match little, it comes back short, with a cursor to go on from where it stopped.
import type { IndexedOrder, ListPage, ListRequest, Position } from '#shared/orderProjection.ts';
import type { StateClient } from '#shared/state.ts';
import { type OrderTimeline, timelineKey } from '../timelines.ts';
import type { OrderMarks } from './model.ts';
import {
  BUCKET_MS,
  type Bucket,
  type BucketEntry,
  bucketKey,
  DAYS_KEY,
  type DayBuckets,
  type Days,
  dayKey,
  dayOf,
  marksKey,
  recordFrom,
} from './orderIndex.ts';

export type ListQuery = ListRequest;

/** Newest first: later creation time, then the larger id. */
const newestFirst = (a: Position, b: Position) => b.at - a.at || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);
/** `entry` comes after `position` in newest-first order. */
const isAfter = (entry: Position, position: Position) => newestFirst(position, entry) < 0;

export interface ListLimits {
  /** State reads at most for one page (directory, buckets and records). */
  maxReads: number;
  /** Records read at once. */
  parallelReads: number;
}

/** Walks the bucket entries from a position backwards, newest first, counting its reads. */
class Walk {
  reads = 0;
  /** Everything newer than this was looked at. */
  position: Position;
  /** The walk reached the oldest indexed order. */
  done = false;
  private readonly entries: AsyncGenerator<BucketEntry>;

  constructor(
    private readonly store: StateClient,
    start: Position,
    private readonly from: number,
    private readonly wanted: (entry: BucketEntry) => boolean,
    private readonly maxReads: number,
  ) {
    this.position = start;
    this.entries = this.walk();
  }

  /** Up to `count` more entries; fewer when the walk ends or runs out of reads. */
  async take(count: number): Promise<BucketEntry[]> {
    const taken: BucketEntry[] = [];
    while (taken.length < count) {
      const next = await this.entries.next();
      if (next.done) break;
      taken.push(next.value);
    }
    return taken;
  }

  async read<T>(key: string): Promise<T | undefined> {
    this.reads += 1;
    return (await this.store.getState<T>(key)).value;
  }

  /** The records of the entries: each order's timeline and marks, in one bulk read. */
  async records(entries: readonly BucketEntry[]): Promise<(IndexedOrder | undefined)[]> {
    const keys = entries.flatMap((entry) => [timelineKey(entry.id), marksKey(entry.id)]);
    this.reads += keys.length;
    const found = await this.store.getStates<unknown>(keys);
    return entries.map((entry, n) =>
      recordFrom(
        entry.id,
        found[2 * n]?.value as OrderTimeline | undefined,
        found[2 * n + 1]?.value as OrderMarks | undefined,
      ),
    );
  }

  private get spent(): boolean {
    return this.reads >= this.maxReads;
  }

  private async *walk(): AsyncGenerator<BucketEntry> {
    const start = this.position;
    const lastDay = start.at < Number.MAX_SAFE_INTEGER ? dayOf(start.at) : '9999-12-31';
    const firstDay = dayOf(this.from);
    const days = ((await this.read<Days>(DAYS_KEY))?.days ?? [])
      .filter((day) => day >= firstDay && day <= lastDay)
      .reverse();
    for (const day of days) {
      if (this.spent) return;
      const buckets = ((await this.read<DayBuckets>(dayKey(day)))?.buckets ?? [])
        .filter((bucket) => bucket <= start.at && bucket + BUCKET_MS > this.from)
        .reverse();
      for (const bucket of buckets) {
        if (this.spent) return;
        const entries = unique(((await this.read<Bucket>(bucketKey(bucket)))?.entries ?? []).filter(this.wanted));
        for (const entry of entries.sort(newestFirst)) {
          // Taken means looked at: the caller reads every entry it takes.
          this.position = positionOf(entry);
          yield entry;
        }
        this.position = { at: bucket, id: '' };
      }
    }
    this.done = true;
  }
}

export async function listOrders(
  store: StateClient,
  query: ListQuery,
  limits: ListLimits = { maxReads: 500, parallelReads: 16 },
): Promise<ListPage> {
  const start: Position = query.after ?? { at: query.to ?? Number.MAX_SAFE_INTEGER, id: '' };
  const from = query.from ?? 0;
  const to = query.to ?? Number.MAX_SAFE_INTEGER;
  const customer = query.customer?.trim().toLowerCase();
  const wanted = (entry: BucketEntry) =>
    isAfter(entry, start) &&
    entry.at >= from &&
    entry.at < to &&
    (!customer || entry.customer.toLowerCase() === customer);
  const walk = new Walk(store, start, from, wanted, limits.maxReads);

  const orders: IndexedOrder[] = [];
  while (orders.length < query.limit && walk.reads < limits.maxReads) {
    const wantedNow = Math.max(query.limit - orders.length, 4);
    const chunk = await walk.take(
      Math.min(limits.parallelReads, wantedNow, Math.floor((limits.maxReads - walk.reads) / 2)),
    );
    if (chunk.length === 0) break;
    const records = await walk.records(chunk);
    for (const [n, entry] of chunk.entries()) {
      const record = records[n];
      if (record && matches(record, entry, query)) orders.push(record);
      if (orders.length === query.limit) return { orders, next: positionOf(entry) };
    }
  }
  // The page ended at the last entry looked at (or the last bucket read); nothing is left when the walk is done.
  return walk.done ? { orders } : { orders, next: walk.position };
}

const positionOf = (entry: BucketEntry): Position => ({ at: entry.at, id: entry.id });

/** A record that belongs on the page: the entry's (a purged and re-placed id has a newer one) and the filters'. */
function matches(record: IndexedOrder, entry: BucketEntry, query: ListQuery): boolean {
  if (record.purged || Date.parse(record.createdAt) !== entry.at) return false;
  if (query.status && record.status !== query.status) return false;
  if (query.lastStep && record.lastStep !== query.lastStep) return false;
  return true;
}

function unique(entries: BucketEntry[]): BucketEntry[] {
  const seen = new Set<string>();
  return entries.filter((entry) => {
    const key = `${entry.at}:${entry.id}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
