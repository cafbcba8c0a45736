// Batched read-modify-writes of busy keys (a group commit per key): changes to one key that arrive while
// a write of it is under way are applied together by the next write, so a busy key (inventory's stock,
// a time bucket or a shard of orderprocessing's index) is written at most once at a time from this
// process, with one read and one ETag-checked write for the whole batch. Writes from other replicas are
// caught by the ETag check: updateState reads again and applies the batch anew, so changes must be pure.
import { type Change, type StateClient, updateState } from './state.ts';

type Outcome = { ok: true; result: unknown } | { ok: false; error: unknown };

interface Waiting<T> {
  change: (current: T | undefined) => Change<T, unknown>;
  settle: (outcome: Outcome) => void;
}

export class BatchedUpdates<T> {
  private readonly queues = new Map<string, Waiting<T>[]>();
  /** Values written (for tests): a batch that changed nothing writes nothing. */
  writes = 0;

  constructor(private readonly store: StateClient) {}

  /** Sets `key` to what `next` makes of it (undefined: no change); resolves once that is stored. */
  async update(key: string, next: (current: T | undefined) => T | undefined): Promise<void> {
    await this.apply(key, (current) => ({ next: next(current), result: undefined }));
  }

  /**
   * Applies `change` to `key` in the next batch and hands back its result. A change that throws is left
   * out of the batch (its caller gets the error, the others are written); a failed write fails them all.
   */
  apply<R>(key: string, change: (current: T | undefined) => Change<T, R>): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      const settle = (outcome: Outcome) => (outcome.ok ? resolve(outcome.result as R) : reject(outcome.error));
      const queue = this.queues.get(key);
      if (queue) {
        queue.push({ change, settle });
        return;
      }
      this.queues.set(key, [{ change, settle }]);
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
        const { outcomes, wrote } = await updateState<T, { outcomes: Outcome[]; wrote: boolean }>(
          this.store,
          key,
          (current) => {
            let value = current;
            const outcomes = batch.map(({ change }): Outcome => {
              try {
                const { next, result } = change(value);
                if (next !== undefined) value = next;
                return { ok: true, result };
              } catch (error) {
                return { ok: false, error };
              }
            });
            if (value === current) return { result: { outcomes, wrote: false } };
            return { next: value as T, result: { outcomes, wrote: true } };
          },
        );
        if (wrote) this.writes += 1;
        for (const [n, waiting] of batch.entries()) {
          waiting.settle(outcomes[n] ?? { ok: false, error: new Error('change lost') });
        }
      } catch (error) {
        for (const waiting of batch) waiting.settle({ ok: false, error });
      }
    }
  }
}
