// Batched read-modify-writes of shared keys: changes to one key that arrive while a write of it is under
// way are applied together by the next write, so a busy key (a time bucket, a shard of the running set)
// is written at most once at a time from this process, with one read and one write for the whole batch.
// Writes from other replicas are caught by the ETag check (updateState reads again and re-applies).
import { type StateClient, updateState } from '#shared/state.ts';

/** A change of one value: the new value, or `undefined` when there is nothing to change. */
export type Change<T> = (current: T | undefined) => T | undefined;

interface Waiting<T> {
  change: Change<T>;
  resolve: () => void;
  reject: (error: unknown) => void;
}

export class BatchedUpdates<T> {
  private readonly queues = new Map<string, Waiting<T>[]>();
  /** Values written (for tests): a batch that changed nothing writes nothing. */
  writes = 0;

  constructor(private readonly store: StateClient) {}

  /** Applies `change` to `key`, batched with the other changes of that key; resolves once it is stored. */
  update(key: string, change: Change<T>): Promise<void> {
    return new Promise((resolve, reject) => {
      const queue = this.queues.get(key);
      if (queue) {
        queue.push({ change, resolve, reject });
        return;
      }
      this.queues.set(key, [{ change, resolve, reject }]);
      void this.drain(key);
    });
  }

  private async drain(key: string): Promise<void> {
    for (;;) {
      const batch = this.queues.get(key) ?? [];
      if (batch.length === 0) {
        this.queues.delete(key);
        return;
      }
      // Changes arriving from now on wait for the next write; the key stays marked busy meanwhile.
      this.queues.set(key, []);
      try {
        const wrote = await updateState<T, boolean>(this.store, key, (current) => {
          let value = current;
          for (const waiting of batch) value = waiting.change(value) ?? value;
          return value === current ? { result: false } : { next: value as T, result: true };
        });
        if (wrote) this.writes += 1;
        for (const waiting of batch) waiting.resolve();
      } catch (error) {
        for (const waiting of batch) waiting.reject(error);
      }
    }
  }
}
