// Stock kept in the state store, exact however many inventory replicas run and however often, or late,
// a step arrives: each order's outcome is decided inside the same ETag-checked write as the counts it
// changes. `stock` holds the counts and `pending`, the outcome of each change whose record may not be
// written yet; `reservation:<orderId>` keeps the outcome for good. Why this is exact: docs/architecture.md.

import { setTimeout as sleep } from 'node:timers/promises';
import { EtagMismatch } from '#shared/dapr.ts';
import { GroupCommit } from '#shared/lanes.ts';
import { ITEM_NAMES, type ItemName, type ReleaseResult, type ReserveResult } from '#shared/messages.ts';
import { createIfAbsent, type StateClient } from '#shared/state.ts';

export type StockCounts = Record<ItemName, number>;

/** reserved: holds its items; rejected: there were too few; released: given back; voided: released before any reserve. */
export type ReservationStatus = 'reserved' | 'rejected' | 'released' | 'voided';

export interface Reservation {
  orderId: string;
  items: ItemName[];
  status: ReservationStatus;
  short: ItemName[];
}

type Outcome = Omit<Reservation, 'orderId'>;

interface StockDocument {
  counts: StockCounts;
  /** Outcomes whose count change is applied here and whose record may not be written yet. */
  pending: Record<string, Outcome>;
}

type Change =
  | { op: 'reserve'; orderId: string; items: ItemName[] }
  | { op: 'release'; orderId: string }
  /** Drops the pending outcome once its record is written (only if it is still that outcome). */
  | { op: 'settle'; orderId: string; status: ReservationStatus };

/** What a change came to: the order's outcome now, whether this change wrote it, whether it is pending. */
interface Decided {
  outcome?: Outcome;
  changed: boolean;
  pending: boolean;
}

const STOCK_KEY = 'stock';
const reservationKey = (orderId: string) => `reservation:${orderId}`;

/** An outcome only moves forward: nothing → reserved, rejected or voided → (reserved only) released. */
const rank = (status: ReservationStatus | undefined) => (status === undefined ? 0 : status === 'released' ? 2 : 1);

/** How many of each item an order asks for (["milk", "milk"] is two milks). */
export function quantities(items: ItemName[]): Map<ItemName, number> {
  const wanted = new Map<ItemName, number>();
  for (const item of items) wanted.set(item, (wanted.get(item) ?? 0) + 1);
  return wanted;
}

const outcomeOf = (record: Reservation | undefined): Outcome | undefined =>
  record && { items: record.items, status: record.status, short: record.short };

/** The document as this version keeps it (an older one kept in-flight marks, `inFlight`, instead). */
function normalize(stored: StockDocument | undefined, initial: StockCounts): StockDocument {
  if (!stored) return { counts: { ...initial }, pending: {} };
  if (stored.pending) return stored;
  const marks = (stored as { inFlight?: Record<string, { op: 'reserve' | 'release'; items: ItemName[] }> }).inFlight;
  const pending = Object.fromEntries(
    Object.entries(marks ?? {}).map(([orderId, mark]) => [
      orderId,
      { items: mark.items, status: mark.op === 'reserve' ? 'reserved' : 'released', short: [] } as Outcome,
    ]),
  );
  return { counts: stored.counts, pending };
}

/**
 * One change applied to the document, given the order's outcome so far (`known`: pending here, or else
 * its record). Pure, so that an ETag retry runs it again on fresh reads.
 */
function apply(
  doc: StockDocument,
  change: Change,
  known: Outcome | undefined,
): { doc: StockDocument; decided: Decided } {
  const isPending = change.orderId in doc.pending;
  const keep = { doc, decided: { ...(known ? { outcome: known } : {}), changed: false, pending: isPending } };
  const withOutcome = (counts: StockCounts, outcome: Outcome) => ({
    doc: { counts, pending: { ...doc.pending, [change.orderId]: outcome } },
    decided: { outcome, changed: true, pending: true },
  });
  if (change.op === 'settle') {
    if (doc.pending[change.orderId]?.status !== change.status) return keep;
    const { [change.orderId]: _settled, ...pending } = doc.pending;
    return { doc: { ...doc, pending }, decided: { changed: true, pending: false } };
  }
  if (change.op === 'reserve') {
    if (known) return keep; // a repeat, or a reserve that arrives after its order was released
    const wanted = quantities(change.items);
    const short = [...wanted].filter(([item, count]) => (doc.counts[item] ?? 0) < count).map(([item]) => item);
    if (short.length > 0) return withOutcome(doc.counts, { items: change.items, status: 'rejected', short });
    const counts = { ...doc.counts };
    for (const [item, count] of wanted) counts[item] -= count;
    return withOutcome(counts, { items: change.items, status: 'reserved', short: [] });
  }
  if (!known) return withOutcome(doc.counts, { items: [], status: 'voided', short: [] }); // a later reserve finds it
  if (known.status !== 'reserved') return keep;
  const counts = { ...doc.counts };
  for (const [item, count] of quantities(known.items)) counts[item] = (counts[item] ?? 0) + count;
  return withOutcome(counts, { ...known, status: 'released' });
}

export class Stock {
  private initialised: Promise<void> | undefined;
  /** Changes that arrive while the stock document is being written go together in its next write. */
  private readonly writes: GroupCommit<Change, Decided>;
  private readonly settling = new Set<Promise<void>>();

  constructor(
    private readonly dapr: StateClient,
    private readonly initialCounts: StockCounts,
  ) {
    this.writes = new GroupCommit((batch) => this.commit(batch));
  }

  /**
   * Writes the initial stock when the store has none yet (a create: another replica that got there first
   * wins), then settles the outcomes a crash left pending. Every operation waits for it; a failure is
   * retried by the next operation.
   */
  initialise(): Promise<void> {
    this.initialised ??= this.start().catch((error: unknown) => {
      this.initialised = undefined;
      throw error;
    });
    return this.initialised;
  }

  private async start(): Promise<void> {
    let { value } = await this.dapr.getState<StockDocument>(STOCK_KEY);
    if (!value) {
      value = { counts: { ...this.initialCounts }, pending: {} };
      try {
        await this.dapr.saveState([{ key: STOCK_KEY, value }]);
      } catch (error) {
        if (!(error instanceof EtagMismatch)) throw error;
        value = (await this.dapr.getState<StockDocument>(STOCK_KEY)).value;
      }
    }
    const { pending } = normalize(value, this.initialCounts);
    for (const [orderId, outcome] of Object.entries(pending)) await this.settle(orderId, outcome);
  }

  async counts(): Promise<StockCounts> {
    await this.initialise();
    const { value } = await this.dapr.getState<StockDocument>(STOCK_KEY);
    return { ...this.initialCounts, ...value?.counts };
  }

  /** The order's outcome: pending in the stock document, or else its record, read after the document. */
  async reservation(orderId: string): Promise<Reservation | undefined> {
    const { value } = await this.dapr.getState<StockDocument>(STOCK_KEY);
    const pending = normalize(value, this.initialCounts).pending[orderId];
    if (pending) return { orderId, ...pending };
    return (await this.dapr.getState<Reservation>(reservationKey(orderId))).value;
  }

  /** Reserves the order's items once; a repeat gives the same answer, a reserve after a release is refused. */
  async reserve(orderId: string, items: ItemName[]): Promise<ReserveResult> {
    const outcome = await this.change({ op: 'reserve', orderId, items });
    const status = outcome?.status;
    return {
      orderId,
      reserved: status === 'reserved',
      short: status === 'rejected' ? (outcome?.short ?? []) : [],
      ...(status === 'released' || status === 'voided' ? { voided: true } : {}),
    };
  }

  /**
   * Gives back what the order holds, once. An order that holds nothing is voided, so that a reserve of it
   * still on its way is refused when it lands.
   */
  async release(orderId: string): Promise<ReleaseResult> {
    const outcome = await this.change({ op: 'release', orderId });
    return { orderId, released: outcome?.status === 'released' };
  }

  /**
   * Applies the change and answers: the outcome is kept for good once it is pending in the stock document,
   * so its record is written, and the outcome settled, in the background.
   */
  private async change(change: Change & { op: 'reserve' | 'release' }): Promise<Outcome | undefined> {
    await this.initialise();
    const { outcome, pending } = await this.writes.submit(change);
    if (outcome && pending) this.settleLater(change.orderId, outcome);
    return outcome;
  }

  /**
   * One write of the stock document carrying a batch of changes. The records are read after the document:
   * an outcome leaves `pending` only once its record is written, so what the document does not hold, the
   * records read after it do, and the ETag check refuses the write if anything changed since the read.
   */
  private async commit(batch: Change[]): Promise<(change: Change) => Decided> {
    for (let attempt = 1; ; attempt++) {
      const { value, etag } = await this.dapr.getState<StockDocument>(STOCK_KEY);
      const orderIds = [...new Set(batch.map((change) => change.orderId))];
      const records = await this.dapr.getStates<Reservation>(orderIds.map(reservationKey));
      const recorded = new Map(orderIds.map((orderId, n) => [orderId, records[n]?.value]));
      let doc = normalize(value, this.initialCounts);
      const decided = new Map<Change, Decided>();
      for (const change of batch) {
        const applied = apply(doc, change, doc.pending[change.orderId] ?? outcomeOf(recorded.get(change.orderId)));
        doc = applied.doc;
        decided.set(change, applied.decided);
      }
      const result = (change: Change) => decided.get(change) ?? { changed: false, pending: false };
      if (![...decided.values()].some((each) => each.changed)) return result;
      try {
        await this.dapr.saveState([{ key: STOCK_KEY, value: doc, ...(etag === undefined ? {} : { etag }) }]);
        return result;
      } catch (error) {
        if (!(error instanceof EtagMismatch) || attempt >= 50) throw error;
        await sleep(Math.random() * Math.min(50, 2 * attempt)); // contenders spread out
      }
    }
  }

  /** Writes the outcome's record (only forward), then drops it from `pending`. */
  private async settle(orderId: string, outcome: Outcome): Promise<void> {
    await this.record({ orderId, ...outcome });
    await this.writes.submit({ op: 'settle', orderId, status: outcome.status });
  }

  /** Settles in the background: on a failure the outcome stays pending, for the order's next call or the next start. */
  private settleLater(orderId: string, outcome: Outcome): void {
    const settling = this.settle(orderId, outcome).catch(() => undefined);
    this.settling.add(settling);
    void settling.then(() => this.settling.delete(settling));
  }

  /** The order's record moves to `reservation` unless it is there already, or further. */
  private async record(reservation: Reservation): Promise<void> {
    const key = reservationKey(reservation.orderId);
    // An order's first outcome usually finds no record: one create-only write, no read before it.
    if (rank(reservation.status) === 1 && (await createIfAbsent(this.dapr, key, reservation))) return;
    for (let attempt = 1; ; attempt++) {
      const { value, etag } = await this.dapr.getState<Reservation>(key);
      if (rank(value?.status) >= rank(reservation.status)) return;
      try {
        await this.dapr.saveState([{ key, value: reservation, ...(etag === undefined ? {} : { etag }) }]);
        return;
      } catch (error) {
        if (!(error instanceof EtagMismatch) || attempt >= 50) throw error;
      }
    }
  }

  /** Resolves once the outcomes being settled in the background are (on shutdown, and for tests). */
  async settled(): Promise<void> {
    await Promise.all(this.settling);
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
    counts[name as ItemName] = Number(value);
  }
  return counts;
}
