// The set of running orders, for the watchdog, in a few shards (`index:running:<n>`, by a hash of the id):
// an order is added when received, changed when its approval wait begins or ends, removed when it ends.
// Removals are not waited for: they ride along with the shard's next write (or a flush a moment later); one
// that is lost leaves a stale entry, which the watchdog drops after reading the record.
import { BatchedUpdates } from '#shared/batched.ts';
import type { StateClient } from '#shared/state.ts';
import type { RunningEntry } from './model.ts';

export interface RunningShard {
  orders: Record<string, RunningEntry>;
}

export const runningKey = (shard: number) => `index:running:${shard}`;

/** FNV-1a, to spread ids over the running set's shards. */
function shardOf(id: string, shards: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) hash = Math.imul(hash ^ id.charCodeAt(i), 0x01000193);
  return (hash >>> 0) % shards;
}

export class RunningSet {
  private readonly writes: BatchedUpdates<RunningShard>;
  private readonly removals = new Map<number, Set<string>>();
  private removalTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: StateClient,
    readonly shards: number,
    /** How long a removal may wait for a ride with another write. */
    private readonly removalDelayMs: number,
    private readonly onBackgroundError: (error: unknown) => void,
  ) {
    this.writes = new BatchedUpdates(store);
  }

  /** Every entry (shards read in parallel). */
  async entries(): Promise<Array<[string, RunningEntry]>> {
    const shards = await Promise.all(
      Array.from({ length: this.shards }, (_, n) => this.store.getState<RunningShard>(runningKey(n))),
    );
    return shards.flatMap((shard) => Object.entries(shard.value?.orders ?? {}));
  }

  /** Sets the order's entry to what `change` makes of it (null: removed; undefined: as it is). */
  update(id: string, change: (entry: RunningEntry | undefined) => RunningEntry | null | undefined): Promise<void> {
    const shard = shardOf(id, this.shards);
    const removals = this.takeRemovals(shard);
    return this.writes.update(runningKey(shard), (current) => {
      const orders = { ...current?.orders };
      let changed = false;
      for (const removed of removals) {
        if (removed in orders) {
          delete orders[removed];
          changed = true;
        }
      }
      const next = change(orders[id]);
      if (next === null && id in orders) {
        delete orders[id];
        changed = true;
      }
      if (next) {
        orders[id] = next;
        changed = true;
      }
      return changed ? { orders } : undefined;
    });
  }

  /** Removes the order's entry with the shard's next write, or a moment later. */
  remove(id: string): void {
    const shard = shardOf(id, this.shards);
    const pending = this.removals.get(shard) ?? new Set();
    pending.add(id);
    this.removals.set(shard, pending);
    this.removalTimer ??= setTimeout(() => {
      this.removalTimer = undefined;
      void this.flush().catch(this.onBackgroundError);
    }, this.removalDelayMs).unref();
  }

  /** Writes the removals still waiting for a ride. */
  async flush(): Promise<void> {
    clearTimeout(this.removalTimer);
    this.removalTimer = undefined;
    await Promise.all([...this.removals.keys()].map((shard) => this.writeRemovals(shard)));
  }

  private takeRemovals(shard: number): string[] {
    const pending = this.removals.get(shard);
    this.removals.delete(shard);
    return pending ? [...pending] : [];
  }

  private writeRemovals(shard: number): Promise<void> {
    const removals = this.takeRemovals(shard);
    if (removals.length === 0) return Promise.resolve();
    return this.writes.update(runningKey(shard), (current) => {
      if (!current || !removals.some((id) => id in current.orders)) return undefined;
      const orders = { ...current.orders };
      for (const id of removals) delete orders[id];
      return { orders };
    });
  }
}
