// Shipping: one shipment per order, and a maintenance mode (kept in the state store, so it survives a
// restart) in which new shipments are refused with 503. An order's key holds its shipment or the mark that
// it was cancelled before any: whichever is written first wins, so a ship slower than the workflow's
// retries either went out (the workflow finds it and keeps the order) or is refused when it lands.
import { Conflict, Unavailable } from '#shared/errors.ts';
import type { CancelShipmentResult, ShipResult } from '#shared/messages.ts';
import { createIfAbsent, type StateClient, updateState } from '#shared/state.ts';

const MAINTENANCE_KEY = 'maintenance';
const shipmentKey = (orderId: string) => `shipment:${orderId}`;

/** Shipping is switched off by an operator: a transient answer, the workflow tries again. */
export class InMaintenance extends Unavailable {
  constructor() {
    super('shipping is deactivated for maintenance');
  }
}

interface Maintenance {
  active: boolean;
}

/** What an order's key holds when its shipment was cancelled before it went out. */
interface Cancelled {
  orderId: string;
  cancelledAt: string;
}
type Stored = ShipResult | Cancelled;
const isCancelled = (stored: Stored): stored is Cancelled => 'cancelledAt' in stored;

/** A ship of an order whose shipment was cancelled first: nothing goes out. */
export class ShipmentCancelled extends Conflict {
  constructor({ orderId, cancelledAt }: Cancelled) {
    super(`the shipment of ${orderId} was cancelled at ${cancelledAt}: it is not shipped`);
  }
}

export class Shipments {
  constructor(
    private readonly dapr: StateClient,
    private readonly newShipmentId: () => string,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async inMaintenance(): Promise<boolean> {
    return (await this.dapr.getState<Maintenance>(MAINTENANCE_KEY)).value?.active ?? false;
  }

  async setMaintenance(active: boolean): Promise<void> {
    await updateState<Maintenance, void>(this.dapr, MAINTENANCE_KEY, () => ({ next: { active }, result: undefined }));
  }

  /** The order's shipment, or its cancellation, or undefined when neither happened. */
  async stored(orderId: string): Promise<Stored | undefined> {
    return (await this.dapr.getState<Stored>(shipmentKey(orderId))).value;
  }

  async shipment(orderId: string): Promise<ShipResult | undefined> {
    const stored = await this.stored(orderId);
    return stored && !isCancelled(stored) ? stored : undefined;
  }

  /**
   * Cancels the order's shipment unless the goods went out: answers the shipment if they did, else null,
   * and from then on a ship of the order is refused. Works in maintenance mode too (nothing is shipped).
   */
  async cancel(orderId: string): Promise<CancelShipmentResult> {
    const cancelled: Cancelled = { orderId, cancelledAt: this.now().toISOString() };
    if (await createIfAbsent(this.dapr, shipmentKey(orderId), cancelled)) return { orderId, shipment: null };
    const stored = await this.stored(orderId);
    if (!stored) throw new Error(`the shipment of ${orderId} was written and is gone`);
    return { orderId, shipment: isCancelled(stored) ? null : stored };
  }

  /**
   * Ships the order once; a repeat returns the first shipment, even in maintenance mode. One read of both
   * keys, then a create-only write: two calls to the sidecar, and a concurrent repeat that wins the create
   * makes this one return its shipment.
   */
  async ship(orderId: string): Promise<ShipResult> {
    const key = shipmentKey(orderId);
    const [existing, maintenance] = await this.dapr.getStates<Stored | Maintenance>([key, MAINTENANCE_KEY]);
    if (existing?.value) return this.shipped(existing.value as Stored);
    if ((maintenance?.value as Maintenance | undefined)?.active) {
      throw new InMaintenance();
    }
    const shipment = { orderId, shipmentId: this.newShipmentId(), shippedAt: this.now().toISOString() };
    if (await createIfAbsent(this.dapr, key, shipment)) return shipment;
    const first = await this.stored(orderId);
    if (!first) throw new Error(`the shipment of ${orderId} was created and is gone`);
    return this.shipped(first);
  }

  private shipped(stored: Stored): ShipResult {
    if (isCancelled(stored)) throw new ShipmentCancelled(stored);
    return stored;
  }
}
