// Shipping: one shipment per order, and a maintenance mode (kept in the state store, so it survives a
// restart) in which new shipments are refused with 503.
import { HttpProblem } from '#shared/http.ts';
import type { ShipResult } from '#shared/messages.ts';
import { type StateClient, updateState } from '#shared/state.ts';

const MAINTENANCE_KEY = 'maintenance';
const shipmentKey = (orderId: string) => `shipment:${orderId}`;

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

  /** Ships the order once; a repeat returns the first shipment, even in maintenance mode. */
  async ship(orderId: string): Promise<ShipResult> {
    const existing = await this.shipment(orderId);
    if (existing) return existing;
    if (await this.inMaintenance()) {
      throw new HttpProblem(503, 'shipping is deactivated for maintenance');
    }
    return updateState<ShipResult, ShipResult>(this.dapr, shipmentKey(orderId), (current) => {
      if (current) return { result: current };
      const shipment = { orderId, shipmentId: this.newShipmentId(), shippedAt: this.now().toISOString() };
      return { next: shipment, result: shipment };
    });
  }
}
