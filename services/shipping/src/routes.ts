import { requireAdmin } from '#shared/auth.ts';
import { NotFound, problems } from '#shared/errors.ts';
import type { ServiceApp } from '#shared/http.ts';
import { CancelShipmentRequest, CancelShipmentResult, OrderParams, ShipRequest, ShipResult } from '#shared/messages.ts';
import { ShippingStatus } from './schemas.ts';
import type { Shipments } from './shipments.ts';

const status = (active: boolean) => ({
  active,
  message: active ? 'shipping is active' : 'shipping is deactivated for maintenance',
});

export const ADMIN_PATHS = new Set(['/shipping/deactivate', '/shipping/activate']);

export function registerRoutes(app: ServiceApp, shipments: Shipments, adminToken: string | undefined): void {
  const admin = requireAdmin(adminToken);

  app.post(
    '/ship',
    { schema: { body: ShipRequest, response: { 200: ShipResult, ...problems(401, 409, 422, 503) } } },
    (request) => shipments.ship(request.body.orderId),
  );

  // Called by the order workflow when its ship failed: cancels the shipment unless the goods went out.
  app.post(
    '/cancel',
    { schema: { body: CancelShipmentRequest, response: { 200: CancelShipmentResult, ...problems(401, 422) } } },
    (request) => shipments.cancel(request.body.orderId),
  );

  app.get('/shipping/status', { schema: { response: { 200: ShippingStatus } } }, async () =>
    status(!(await shipments.inMaintenance())),
  );

  // The maintenance toggles, for operators.
  for (const [path, inMaintenance] of [
    ['/shipping/deactivate', true],
    ['/shipping/activate', false],
  ] as const) {
    app.post(path, { preHandler: admin, schema: { response: { 200: ShippingStatus, ...problems(401) } } }, async () => {
      await shipments.setMaintenance(inMaintenance);
      return status(!inMaintenance);
    });
  }

  app.get(
    '/shipping/:orderId',
    { schema: { params: OrderParams, response: { 200: ShipResult, ...problems(401, 404, 422) } } },
    async (request) => {
      const shipment = await shipments.shipment(request.params.orderId);
      if (!shipment) throw new NotFound(`order ${request.params.orderId} has not shipped`);
      return shipment;
    },
  );
}
