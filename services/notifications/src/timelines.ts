// The read model's timelines, written in batches: the notifications that arrive together are stored with
// one bulk read of their orders' timelines and one save of those that changed. A save that fails is not
// retried as a batch: each notification is stored alone again, which is safe because storing one twice
// changes nothing (docs/architecture.md, "The read model").

import type { SaveItem } from '#shared/dapr.ts';
import { GroupCommit, KeyedMutex } from '#shared/lanes.ts';
import { rankOf as rank } from '#shared/lifecycle.ts';
import type { Notification } from '#shared/messages.ts';
import { type StateClient, updateState } from '#shared/state.ts';

export interface StoredEvent extends Notification {
  /** When this service first stored the notification (ms since the epoch): the SSE cursor. */
  at: number;
}

export interface OrderTimeline {
  orderId: string;
  events: StoredEvent[];
}

/** A notification as stored: the timeline right after it, and whether it was new there. */
export interface Stored {
  timeline: OrderTimeline;
  event: StoredEvent;
  isNew: boolean;
}

export const timelineKey = (orderId: string) => `timeline:${orderId}`;

/** A notification that does not fit: its timeline is full (not a transient failure, so not retried). */
export class TimelineFull extends Error {}

/** Workflow order: by the workflow's time, then by the story's order of kinds, then by arrival. */
export function compareEvents(a: StoredEvent, b: StoredEvent): number {
  return a.time.localeCompare(b.time) || rank(a.kind) - rank(b.kind) || a.at - b.at;
}

export class TimelineWriter {
  /** Writes of one order's timeline outside a batch take turns, so they do not collide on its ETag. */
  private readonly perOrder = new KeyedMutex();
  private readonly batches: GroupCommit<Notification, Stored | Error>;

  constructor(
    private readonly store: StateClient,
    private readonly maxEvents: number,
    private readonly now: () => number,
  ) {
    this.batches = new GroupCommit((batch) => this.writeBatch(batch), { gatherTick: true });
  }

  /** Batch writes so far. */
  get commits(): number {
    return this.batches.commits;
  }

  /** Stores the notification in its order's timeline, once. Throws `TimelineFull`, or when the store fails. */
  async add(notification: Notification): Promise<Stored> {
    const outcome = await this.batches.submit(notification);
    if (outcome instanceof Error) throw outcome;
    return outcome;
  }

  /** The timeline with the notification in it, and what to answer; `timeline` is unchanged when it was there. */
  private added(orderId: string, timeline: OrderTimeline | undefined, notification: Notification): Stored {
    const events = timeline?.events ?? [];
    const known = events.find((stored) => stored.id === notification.id);
    if (timeline && known) return { timeline, event: known, isNew: false };
    if (events.length >= this.maxEvents) {
      throw new TimelineFull(`the timeline of ${orderId} is full (${events.length} notifications)`);
    }
    const event: StoredEvent = { ...notification, at: this.now() };
    return { timeline: { orderId, events: [...events, event].sort(compareEvents) }, event, isNew: true };
  }

  private async writeBatch(batch: Notification[]): Promise<(notification: Notification) => Stored | Error> {
    const orderIds = [...new Set(batch.map((notification) => notification.orderId))];
    const current = await this.store.getStates<OrderTimeline>(orderIds.map(timelineKey));
    const outcomes = new Map<Notification, Stored | Error>();
    const changed: SaveItem[] = [];
    orderIds.forEach((orderId, n) => {
      const { value, etag } = current[n] ?? { value: undefined, etag: undefined };
      let timeline = value;
      for (const notification of batch.filter((each) => each.orderId === orderId)) {
        try {
          const stored = this.added(orderId, timeline, notification);
          timeline = stored.timeline;
          outcomes.set(notification, stored);
        } catch (error) {
          outcomes.set(notification, error as Error);
        }
      }
      if (timeline !== value) changed.push({ key: timelineKey(orderId), value: timeline, etag });
    });
    if (changed.length > 0) {
      try {
        await this.store.saveState(changed);
      } catch {
        const alone = await Promise.all(
          batch.map(async (notification) => [notification, await this.addAlone(notification)] as const),
        );
        const outcomeOf = new Map(alone);
        return (notification) => outcomeOf.get(notification) as Stored | Error;
      }
    }
    return (notification) => outcomes.get(notification) as Stored | Error;
  }

  /** One notification, read-modify-write of its timeline with ETag retries. */
  private addAlone(notification: Notification): Promise<Stored | Error> {
    const { orderId } = notification;
    return this.perOrder
      .run(orderId, () =>
        updateState<OrderTimeline, Stored>(this.store, timelineKey(orderId), (timeline) => {
          const stored = this.added(orderId, timeline, notification);
          return stored.timeline === timeline ? { result: stored } : { next: stored.timeline, result: stored };
        }),
      )
      .catch((error: unknown) => (error instanceof Error ? error : new Error(String(error))));
  }
}
