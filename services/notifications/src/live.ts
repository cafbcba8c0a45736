// The open SSE connections of this process, and what each of them is told when a notification is stored
// (here, or by another replica: see follower.ts).
import type { OrderSummary, StoredEvent } from './readModel.ts';

/** One stored notification and the state of its order after it. */
export interface LiveMessage {
  event: StoredEvent;
  order: OrderSummary;
}

export type Listener = (message: LiveMessage) => void;

export class LiveUpdates {
  private readonly clients = new Set<Listener>();
  private readonly observers = new Set<Listener>();
  private readonly clientsChanged = new Set<(clients: number) => void>();
  private published = 0;

  /** A live client (an SSE connection): hears every message until it unsubscribes. */
  subscribe(listener: Listener): () => void {
    this.clients.add(listener);
    this.changed();
    return () => {
      if (this.clients.delete(listener)) this.changed();
    };
  }

  /** Hears every message too, without counting as a client. */
  observe(listener: Listener): void {
    this.observers.add(listener);
  }

  /** Told how many clients there are, each time that changes. */
  onClientsChange(listener: (clients: number) => void): void {
    this.clientsChanged.add(listener);
  }

  publish(message: LiveMessage): void {
    this.published++;
    for (const listener of this.observers) listener(message);
    for (const listener of this.clients) listener(message);
  }

  /** Messages published so far: a read of the store begun at an earlier count may miss the later ones. */
  get generation(): number {
    return this.published;
  }

  /** Open connections. */
  get size(): number {
    return this.clients.size;
  }

  private changed(): void {
    for (const listener of this.clientsChanged) listener(this.clients.size);
  }
}
