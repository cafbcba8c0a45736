// Shipping: one shipment per order, and a maintenance mode (kept in the state store, so it survives a
// restart) in which new shipments are refused with 503.
import { Unavailable } from '#shared/errors.ts';
import type { ShipResult } from '#shared/messages.ts';
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

  async shipment(orderId: string): Promise<ShipResult | undefined> {
    return (await this.dapr.getState<ShipResult>(shipmentKey(orderId))).value;
  }

  /**
   * Ships the order once; a repeat returns the first shipment, even in maintenance mode. One read of both
   * keys, then a create-only write: two calls to the sidecar, and a concurrent repeat that wins the create
   * makes this one return its shipment.
   */
  async ship(orderId: string): Promise<ShipResult> {
    const key = shipmentKey(orderId);
    const [existing, maintenance] = await this.dapr.getStates<ShipResult | Maintenance>([key, MAINTENANCE_KEY]);
    if (existing?.value) return existing.value as ShipResult;
    if ((maintenance?.value as Maintenance | undefined)?.active) {
      throw new InMaintenance();
    }
    const shipment = { orderId, shipmentId: this.newShipmentId(), shippedAt: this.now().toISOString() };
    if (await createIfAbsent(this.dapr, key, shipment)) return shipment;
    const first = await this.shipment(orderId);
    if (!first) throw new Error(`the shipment of ${orderId} was created and is gone`);
    return first;
  }
}
