// The read model behind the live page (the query side of CQRS), in the state store: one timeline per order
// (`timeline:<orderId>`, each notification once, by its id) and a bounded index of recent orders
// (`orders:recent`, one group-committed write per burst). No write relies on another one, so a crash
// between them is repaired by the redelivery: docs/architecture.md, "The read model".

import pMap from 'p-map';
import { GroupCommit } from '#shared/lanes.ts';
import type { Notification } from '#shared/messages.ts';
import { type StateClient, updateState } from '#shared/state.ts';
import { customerOf, type DerivedState, deriveState } from './orderState.ts';
import { type OrderTimeline, type StoredEvent, TimelineWriter, timelineKey } from './timelines.ts';

export { compareEvents, type OrderTimeline, type StoredEvent, TimelineFull, timelineKey } from './timelines.ts';

export interface OrderSummary extends DerivedState {
  orderId: string;
  customer?: string;
  /** The time of the order's first notification. */
  createdAt: string;
  /** The `at` of its latest stored notification. */
  updatedAt: number;
  /** How many notifications it has; only grows, so the larger one is the newer summary. */
  version: number;
}

export interface RecentOrders {
  /** Newest update first. */
  orders: OrderSummary[];
  /** The newest `updatedAt` of an order dropped from the index; 0 when none was. */
  evictedUpTo: number;
}

/** What a (re)connecting client is sent: the orders and events it may have missed. */
export interface Catchup {
  /** A full snapshot of the index, or only what changed since the client's cursor. */
  full: boolean;
  /** The client's new cursor. */
  cursor: number;
  orders: OrderSummary[];
  /** Oldest `at` first. */
  events: StoredEvent[];
}

export interface Recorded {
  event: StoredEvent;
  /** The order's timeline with the notification in it (the order index derives its record from it). */
  timeline: OrderTimeline;
  order: OrderSummary;
  /** The notification was not stored before (false for a redelivery). */
  isNew: boolean;
  /** Live clients should hear of it: it is new, or it repaired an index that missed it. */
  publish: boolean;
}

export interface ReadModelOptions {
  /** Orders kept in the index besides those waiting for approval. */
  maxRecent?: number;
  /** Orders waiting for approval kept in the index. */
  maxPending?: number;
  /** A timeline takes at most this many notifications (an order has at most a dozen kinds). */
  maxEventsPerOrder?: number;
  /** The margin of a reconnect's replay, for writes that were in flight when the client got its cursor. */
  replayMarginMs?: number;
  now?: () => number;
}

export const INDEX_KEY = 'orders:recent';

const EMPTY: RecentOrders = { orders: [], evictedUpTo: 0 };

export function summarize(timeline: OrderTimeline): OrderSummary {
  const { events } = timeline;
  const customer = customerOf(events);
  return {
    orderId: timeline.orderId,
    ...(customer === undefined ? {} : { customer }),
    ...deriveState(events),
    createdAt: events[0]?.time ?? '',
    updatedAt: events.reduce((latest, event) => Math.max(latest, event.at), 0),
    version: events.length,
  };
}

const newestFirst = (a: OrderSummary, b: OrderSummary) => b.updatedAt - a.updatedAt;

/**
 * The index with `summaries` merged in (each only over an older one of its order), bounded. Pure, so that
 * an ETag retry can run it again on the fresh value. `applied` holds the summaries that are in the result.
 */
export function mergeRecent(
  current: RecentOrders | undefined,
  summaries: readonly OrderSummary[],
  limits: { maxRecent: number; maxPending: number },
): { next: RecentOrders; applied: Set<OrderSummary> } {
  const base = current ?? EMPTY;
  const byId = new Map(base.orders.map((order) => [order.orderId, order]));
  const applied = new Set<OrderSummary>();
  for (const summary of summaries) {
    const known = byId.get(summary.orderId);
    if (known && known.version >= summary.version) continue;
    if (known && applied.has(known)) applied.delete(known);
    byId.set(summary.orderId, summary);
    applied.add(summary);
  }
  if (applied.size === 0) return { next: base, applied };

  const all = [...byId.values()].sort(newestFirst);
  const pending = all.filter((order) => order.state === 'waiting_for_approval');
  const others = all.filter((order) => order.state !== 'waiting_for_approval');
  const evicted = [...pending.slice(limits.maxPending), ...others.slice(limits.maxRecent)];
  let evictedUpTo = base.evictedUpTo;
  for (const order of evicted) {
    evictedUpTo = Math.max(evictedUpTo, order.updatedAt);
    applied.delete(order);
  }
  const orders = [...pending.slice(0, limits.maxPending), ...others.slice(0, limits.maxRecent)].sort(newestFirst);
  return { next: { orders, evictedUpTo }, applied };
}

export class ReadModel {
  private readonly timelines: TimelineWriter;
  private readonly index: GroupCommit<OrderSummary, boolean>;
  private readonly limits: { maxRecent: number; maxPending: number };
  private readonly maxEventsPerOrder: number;
  private readonly marginMs: number;
  private readonly now: () => number;

  constructor(
    private readonly store: StateClient,
    options: ReadModelOptions = {},
  ) {
    this.limits = { maxRecent: options.maxRecent ?? 100, maxPending: options.maxPending ?? 100 };
    this.maxEventsPerOrder = options.maxEventsPerOrder ?? 50;
    this.marginMs = options.replayMarginMs ?? 15_000;
    this.now = options.now ?? Date.now;
    this.timelines = new TimelineWriter(store, this.maxEventsPerOrder, this.now);
    // One index write for the summaries of a whole delivery (they arrive in the same tick).
    this.index = new GroupCommit(
      async (summaries) => {
        const applied = await updateState<RecentOrders, Set<OrderSummary>>(this.store, INDEX_KEY, (current) => {
          const { next, applied } = mergeRecent(current, summaries, this.limits);
          return next === (current ?? EMPTY) ? { result: applied } : { next, result: applied };
        });
        return (summary) => applied.has(summary);
      },
      { gatherTick: true },
    );
  }

  /** Index writes so far (each carries every summary that was waiting for it). */
  get indexCommits(): number {
    return this.index.commits;
  }

  /** Timeline batch writes so far (each carries every notification that arrived with it). */
  get timelineCommits(): number {
    return this.timelines.commits;
  }

  /**
   * Stores a notification once (a redelivery changes nothing) and brings the index up to date. Throws
   * when the store fails (the caller answers so that pub/sub redelivers) or with `TimelineFull`.
   */
  async record(notification: Notification): Promise<Recorded> {
    const { timeline, event, isNew } = await this.timelines.add(notification);
    const order = summarize(timeline);
    const indexed = await this.index.submit(order);
    return { event, timeline, order, isNew, publish: isNew || indexed };
  }

  async timeline(orderId: string): Promise<OrderTimeline | undefined> {
    return (await this.store.getState<OrderTimeline>(timelineKey(orderId))).value;
  }

  async recent(): Promise<RecentOrders> {
    return (await this.store.getState<RecentOrders>(INDEX_KEY)).value ?? EMPTY;
  }

  /** Everything the index knows: its orders with their whole timelines. */
  async snapshot(): Promise<Catchup> {
    const cursor = this.now();
    const index = await this.recent();
    return { full: true, cursor, ...(await this.gather(index.orders, 0)) };
  }

  /**
   * What a client whose cursor is `cursor` may have missed; undefined when that cannot be told from the
   * index (it dropped an order touched since, or the cursor is not one of ours): send a snapshot then.
   */
  async since(cursor: number): Promise<Catchup | undefined> {
    const now = this.now();
    if (!Number.isSafeInteger(cursor) || cursor <= 0 || cursor > now + this.marginMs) return undefined;
    const from = cursor - this.marginMs;
    const index = await this.recent();
    if (index.evictedUpTo >= from) return undefined;
    const touched = index.orders.filter((order) => order.updatedAt >= from);
    const found = await this.gather(touched, from);
    const latest = found.events.reduce((max, event) => Math.max(max, event.at), cursor);
    return { full: false, cursor: latest, ...found };
  }

  /** The orders' current summaries and their events stored at or after `from`, oldest first. */
  private async gather(orders: readonly OrderSummary[], from: number) {
    const timelines = await pMap(orders, (order) => this.timeline(order.orderId), { concurrency: 16 });
    const summaries = orders.map((order, n) => {
      const timeline = timelines[n];
      return timeline ? summarize(timeline) : order;
    });
    const events = timelines
      .flatMap((timeline) => timeline?.events ?? [])
      .filter((event) => event.at >= from)
      .sort((a, b) => a.at - b.at);
    return { orders: summaries, events };
  }
}
