// The open SSE connections of this process, and what each of them is told when a notification is stored.
import type { OrderSummary, StoredEvent } from './readModel.ts';

/** One stored notification and the state of its order after it. */
export interface LiveMessage {
  event: StoredEvent;
  order: OrderSummary;
}

export type Listener = (message: LiveMessage) => void;

export class LiveUpdates {
  private readonly listeners = new Set<Listener>();

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  publish(message: LiveMessage): void {
    for (const listener of this.listeners) listener(message);
  }

  /** Open connections. */
  get size(): number {
    return this.listeners.size;
  }
}
