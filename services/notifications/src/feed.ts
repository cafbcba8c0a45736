// The live feed of order notifications: kept in arrival order, each notification once (pub/sub delivers
// at least once, and a notification's id is stable), and handed to every open SSE connection.
import type { Notification } from '#shared/messages.ts';

export type Listener = (notification: Notification) => void;

export class Feed {
  private readonly events: Notification[] = [];
  private readonly seen = new Set<string>();
  private readonly listeners = new Set<Listener>();

  constructor(private readonly capacity = 1000) {}

  /** Adds a notification; false when it was already there (a redelivery). */
  add(notification: Notification): boolean {
    if (this.seen.has(notification.id)) return false;
    this.seen.add(notification.id);
    this.events.push(notification);
    if (this.events.length > this.capacity) {
      const dropped = this.events.shift();
      if (dropped) this.seen.delete(dropped.id);
    }
    for (const listener of this.listeners) listener(notification);
    return true;
  }

  /** Everything after the event with id `lastId` (all of it when the id is unknown). */
  since(lastId: string | null | undefined): Notification[] {
    const index = lastId ? this.events.findIndex((event) => event.id === lastId) : -1;
    return this.events.slice(index + 1);
  }

  forOrder(orderId: string): Notification[] {
    return this.events.filter((event) => event.orderId === orderId);
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
