// Stock kept in the state store, reserved and released once per order however often a step is retried.
//
// Two kinds of keys: `stock` holds the counts of every item plus a small set of operations in flight, and
// `reservation:<orderId>` records the outcome for an order. Redis transactions do not roll back, so a
// change must never need two keys to agree: the count change and the in-flight mark (which carries the
// items) are one ETag-checked write of `stock`, the order's record follows, and the mark is cleared last
// (in the background: the answer does not wait for it). A crash between any two of these writes is
// repaired by the retry, which finds the mark and does not apply the change twice.
//
// Duplicate calls for one order that overlap (a retry racing a slow first call) take turns in this
// process. Every order changes `stock`, so its changes are group-committed: those that arrive while a
// write is under way go together in the next one (one read and one ETag-checked write for many orders,
// instead of one each plus a retry per collision). Running several inventory replicas on Redis would
// need more than that: a store whose transactions roll back (e.g. PostgreSQL), so that counts and record
// are one write.

import { BatchedUpdates } from '#shared/batched.ts';
import { KeyedLanes } from '#shared/lanes.ts';
import { ITEM_NAMES, type ItemName, type ReleaseResult, type ReserveResult } from '#shared/messages.ts';
import { type Change, createIfAbsent, type StateClient, updateState } from '#shared/state.ts';

export type StockCounts = Record<ItemName, number>;

interface InFlight {
  op: 'reserve' | 'release';
  items: ItemName[];
}

interface StockDocument {
  counts: StockCounts;
  /** Orders whose count change is applied but whose reservation record may not be final yet. */
  inFlight: Record<string, InFlight>;
}

export interface Reservation {
  orderId: string;
  items: ItemName[];
  status: 'reserved' | 'rejected' | 'released';
  short: ItemName[];
}

const STOCK_KEY = 'stock';

const reservationKey = (orderId: string) => `reservation:${orderId}`;

/** How many of each item an order asks for (["milk", "milk"] is two milks). */
export function quantities(items: ItemName[]): Map<ItemName, number> {
  const wanted = new Map<ItemName, number>();
  for (const item of items) wanted.set(item, (wanted.get(item) ?? 0) + 1);
  return wanted;
}

export class Stock {
  private initialised: Promise<void> | undefined;
  /** The operation under way per order: a duplicate waits for it instead of racing it. */
  private readonly perOrder = new KeyedLanes();
  private readonly stockWrites: BatchedUpdates<StockDocument>;
  private readonly clearing = new Set<Promise<void>>();

  constructor(
    private readonly dapr: StateClient,
    private readonly initialCounts: StockCounts,
  ) {
    this.stockWrites = new BatchedUpdates(dapr);
  }

  /**
   * Writes the initial stock when the store has none yet (a create: another instance that got there
   * first wins). Every operation waits for it, so it can start as soon as the app listens (the sidecar
   * may still be loading its components); a failure is retried by the next operation.
   */
  initialise(): Promise<void> {
    this.initialised ??= updateState<StockDocument, StockDocument | undefined>(this.dapr, STOCK_KEY, (current) =>
      current ? { result: current } : { next: { counts: this.initialCounts, inFlight: {} }, result: undefined },
    )
      .then((found) => this.clearSettledMarks(found))
      .catch((error: unknown) => {
        this.initialised = undefined;
        throw error;
      });
    return this.initialised;
  }

  async counts(): Promise<StockCounts> {
    await this.initialise();
    const { value } = await this.dapr.getState<StockDocument>(STOCK_KEY);
    return { ...this.initialCounts, ...value?.counts };
  }

  async reservation(orderId: string): Promise<Reservation | undefined> {
    return (await this.dapr.getState<Reservation>(reservationKey(orderId))).value;
  }

  reserve(orderId: string, items: ItemName[]): Promise<ReserveResult> {
    return this.perOrder.run(orderId, async () => {
      await this.initialise();
      const done = await this.reservation(orderId);
      if (done) {
        await this.clearInFlight(orderId);
        return { orderId, reserved: done.status !== 'rejected', short: done.short };
      }

      const short = await this.changeStock<ItemName[]>((doc) => {
        if (doc.inFlight[orderId]?.op === 'reserve') return { result: [] }; // applied before a crash
        const wanted = quantities(items);
        const missing = [...wanted].filter(([item, count]) => (doc.counts[item] ?? 0) < count).map(([item]) => item);
        if (missing.length > 0) return { result: missing };
        const counts = { ...doc.counts };
        for (const [item, count] of wanted) counts[item] -= count;
        return { next: { counts, inFlight: { ...doc.inFlight, [orderId]: { op: 'reserve', items } } }, result: [] };
      });

      const status = short.length > 0 ? 'rejected' : 'reserved';
      await this.record({ orderId, items, status, short }, 'new');
      this.clearInFlightLater(orderId);
      return { orderId, reserved: status === 'reserved', short };
    });
  }

  /**
   * Gives back what the order reserved; a second call, or one for an order that holds nothing, is a
   * no-op. A reserve that crashed before writing its record is found by its in-flight mark.
   */
  release(orderId: string): Promise<ReleaseResult> {
    return this.perOrder.run(orderId, async () => {
      await this.initialise();
      const recorded = await this.reservation(orderId);
      if (recorded && recorded.status !== 'reserved') {
        await this.clearInFlight(orderId);
        return { orderId, released: recorded.status === 'released' };
      }

      const items = await this.changeStock<ItemName[] | undefined>((doc) => {
        const mark = doc.inFlight[orderId];
        if (mark?.op === 'release') return { result: mark.items }; // given back before a crash
        const held = recorded?.items ?? (mark?.op === 'reserve' ? mark.items : undefined);
        if (!held) return { result: undefined }; // never reserved: nothing to give back
        const counts = { ...doc.counts };
        for (const [item, count] of quantities(held)) counts[item] = (counts[item] ?? 0) + count;
        return {
          next: { counts, inFlight: { ...doc.inFlight, [orderId]: { op: 'release', items: held } } },
          result: held,
        };
      });
      if (!items) return { orderId, released: false };

      await this.record({ orderId, items, status: 'released', short: [] }, recorded ? 'existing' : 'new');
      this.clearInFlightLater(orderId);
      return { orderId, released: true };
    });
  }

  /** Runs `change` (pure: a conflict runs it again) in the next batched write of the stock document. */
  private changeStock<R>(change: (doc: StockDocument) => Change<StockDocument, R>): Promise<R> {
    return this.stockWrites.apply(STOCK_KEY, (current) => change(current ?? this.emptyDocument()));
  }

  /**
   * The order's outcome. A new record is a create (one write, no read): only a duplicate call, which
   * waits its turn above, could have written one, and then the read-modify-write settles it.
   */
  private async record(reservation: Reservation, expected: 'new' | 'existing'): Promise<void> {
    const key = reservationKey(reservation.orderId);
    if (expected === 'new' && (await createIfAbsent(this.dapr, key, reservation))) return;
    await updateState<Reservation, void>(this.dapr, key, () => ({ next: reservation, result: undefined }));
  }

  /**
   * Once the record is written the mark has done its job: it is cleared by the next group commit, and
   * the answer does not wait for that. A mark left by a crash in between is cleared at the next start
   * (clearSettledMarks) or by the order's next call.
   */
  private clearInFlightLater(orderId: string): void {
    const clearing = this.clearInFlight(orderId).catch(() => undefined);
    this.clearing.add(clearing);
    void clearing.then(() => this.clearing.delete(clearing));
  }

  /** Resolves once the marks being cleared in the background are (on shutdown, and for tests). */
  async settled(): Promise<void> {
    await Promise.all(this.clearing);
  }

  /** At start: clears the marks whose order already has the matching final record. */
  private async clearSettledMarks(doc: StockDocument | undefined): Promise<void> {
    for (const [orderId, mark] of Object.entries(doc?.inFlight ?? {})) {
      const recorded = await this.reservation(orderId);
      const settled =
        mark.op === 'reserve' ? recorded && recorded.status !== 'released' : recorded?.status === 'released';
      if (settled) await this.clearInFlight(orderId);
    }
  }

  private async clearInFlight(orderId: string): Promise<void> {
    await this.changeStock<void>((doc) => {
      if (!(orderId in doc.inFlight)) return { result: undefined };
      const { [orderId]: _cleared, ...inFlight } = doc.inFlight;
      return { next: { ...doc, inFlight }, result: undefined };
    });
  }

  private emptyDocument(): StockDocument {
    return { counts: { ...this.initialCounts }, inFlight: {} };
  }
}

/** Parses INVENTORY_STOCK ("milk=10,iPhone=2"); items not named keep their default. */
export function parseStock(text: string | undefined, defaults: StockCounts): StockCounts {
  const counts = { ...defaults };
  if (!text?.trim()) return counts;
  for (const pair of text.split(',')) {
    const [name, value] = pair.split('=').map((part) => part.trim());
    if (!ITEM_NAMES.includes(name as ItemName)) throw new Error(`INVENTORY_STOCK: unknown item "${name}"`);
    if (!/^\d+$/.test(value ?? '')) throw new Error(`INVENTORY_STOCK: "${pair}" needs a whole number`);
    const count = Number(value);
    counts[name as ItemName] = count;
  }
  return counts;
}
