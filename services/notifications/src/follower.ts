// With several notifications replicas, pub/sub hands each delivery to one of them, so a replica's live
// clients would miss what the others store. While a replica has clients, it follows the shared read model:
// each interval it reads the index of recent orders and, for the orders moved on elsewhere, their
// timelines, and tells its clients the events they did not hear (the page ignores what it already has).
import type { StateClient } from '#shared/state.ts';
import type { LiveMessage, LiveUpdates } from './live.ts';
import { type OrderTimeline, type ReadModel, summarize, timelineKey } from './readModel.ts';

/**
 * A notification stored this long before a client connected may still miss its snapshot; plus the age a
 * snapshot may have when it is handed out (snapshotCache.ts).
 */
const SNAPSHOT_MARGIN_MS = 2_000;

export class ReadModelFollower {
  /** The events of each recent order that this replica's clients have heard (by notification id). */
  private readonly heard = new Map<string, Set<string>>();
  private timer: NodeJS.Timeout | undefined;
  private following = false;
  /** Events stored before this (ms) reached the clients in the snapshot they got when they connected. */
  private since = 0;

  constructor(
    private readonly model: ReadModel,
    private readonly store: StateClient,
    private readonly live: LiveUpdates,
    private readonly intervalMs = 1000,
    private readonly snapshotMaxAgeMs = 0,
  ) {
    // What this replica stores itself reaches its clients at once; remember it, so it is not told twice.
    live.observe((message) => this.note(message));
    live.onClientsChange((clients) => (clients > 0 ? this.start() : this.stop()));
  }

  private note({ event }: LiveMessage): void {
    const heard = this.heard.get(event.orderId) ?? new Set<string>();
    heard.add(event.id);
    this.heard.set(event.orderId, heard);
  }

  private start(): void {
    if (this.timer || this.intervalMs <= 0) return;
    this.since = Date.now() - SNAPSHOT_MARGIN_MS - this.snapshotMaxAgeMs;
    this.timer = setInterval(() => {
      if (this.following) return;
      this.following = true;
      this.follow()
        .catch(() => undefined) // the next round tries again
        .finally(() => {
          this.following = false;
        });
    }, this.intervalMs);
    this.timer.unref();
  }

  /** No clients: nothing to follow (and no reads), until one connects again. */
  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One round: the events stored elsewhere since the last, told to this replica's clients. */
  async follow(): Promise<void> {
    const { orders } = await this.model.recent();
    // An order's version is its number of events: more than were heard means some were stored elsewhere.
    const moved = orders.filter(
      (order) => order.updatedAt >= this.since && (this.heard.get(order.orderId)?.size ?? 0) < order.version,
    );
    if (moved.length > 0) {
      const timelines = await this.store.getStates<OrderTimeline>(moved.map((order) => timelineKey(order.orderId)));
      for (const timeline of timelines.map((entry) => entry.value)) {
        if (!timeline) continue;
        const heard = this.heard.get(timeline.orderId);
        const fresh = timeline.events
          .filter((event) => event.at >= this.since && !heard?.has(event.id))
          .sort((a, b) => a.at - b.at);
        const order = summarize(timeline);
        for (const event of fresh) this.live.publish({ event, order });
        this.heard.set(timeline.orderId, new Set(timeline.events.map((event) => event.id)));
      }
    }
    // Orders that left the index are not followed any more (it keeps the recent ones).
    const listed = new Set(orders.map((order) => order.orderId));
    for (const orderId of this.heard.keys()) if (!listed.has(orderId)) this.heard.delete(orderId);
  }
}
