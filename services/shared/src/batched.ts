// Batched read-modify-writes of busy keys (a group commit per key): changes to one key that arrive while
// a write of it is under way are applied together by the next write, so a busy key (inventory's stock,
// a time bucket or a shard of orderprocessing's index) is written at most once at a time from this
// process, with one read and one ETag-checked write for the whole batch. Writes from other replicas are
// caught by the ETag check: updateState reads again and applies the batch anew, so changes must be pure.
import { GroupCommit } from './lanes.ts';
import { type Change, type StateClient, updateState } from './state.ts';

type Outcome = { ok: true; result: unknown } | { ok: false; error: unknown };

/** One change in a batch (an object of its own, so that two equal changes stay two). */
interface Waiting<T> {
  change: (current: T | undefined) => Change<T, unknown>;
}

export class BatchedUpdates<T> {
  /** A group commit per key while it has changes waiting or being written. */
  private readonly batches = new Map<string, GroupCommit<Waiting<T>, Outcome>>();
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
  async apply<R>(key: string, change: (current: T | undefined) => Change<T, R>): Promise<R> {
    let batch = this.batches.get(key);
    if (!batch) {
      batch = new GroupCommit((waiting) => this.write(key, waiting));
      this.batches.set(key, batch);
    }
    try {
      const outcome = await batch.submit({ change });
      if (!outcome.ok) throw outcome.error;
      return outcome.result as R;
    } finally {
      if (batch.idle && this.batches.get(key) === batch) this.batches.delete(key);
    }
  }

  /** One read-modify-write of `key` carrying the whole batch, in order. */
  private async write(key: string, batch: Waiting<T>[]): Promise<(waiting: Waiting<T>) => Outcome> {
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
    const outcomeOf = new Map(batch.map((waiting, n) => [waiting, outcomes[n]]));
    return (waiting) => outcomeOf.get(waiting) ?? { ok: false, error: new Error('change lost') };
  }
}
