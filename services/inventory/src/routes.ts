import { NotFound, problems } from '#shared/errors.ts';
import type { ServiceApp } from '#shared/http.ts';
import { OrderParams, ReleaseRequest, ReleaseResult, ReserveRequest, ReserveResult } from '#shared/messages.ts';
import { ReservationView, StockView } from './schemas.ts';
import type { Stock } from './stock.ts';

export function registerRoutes(app: ServiceApp, stock: Stock): void {
  // Called by the order workflow through Dapr service invocation. Not enough stock is an answer, not an error.
  app.post(
    '/reserve',
    { schema: { body: ReserveRequest, response: { 200: ReserveResult, ...problems(401, 422) } } },
    (request) => stock.reserve(request.body.orderId, request.body.items),
  );

  app.post(
    '/release',
    { schema: { body: ReleaseRequest, response: { 200: ReleaseResult, ...problems(401, 422) } } },
    (request) => stock.release(request.body.orderId),
  );

  app.get('/inventory', { schema: { response: { 200: StockView } } }, async () => ({ stock: await stock.counts() }));

  app.get(
    '/inventory/reservations/:orderId',
    { schema: { params: OrderParams, response: { 200: ReservationView, ...problems(401, 404, 422) } } },
    async (request) => {
      const reservation = await stock.reservation(request.params.orderId);
      if (!reservation) throw new NotFound(`no reservation for order ${request.params.orderId}`);
      return reservation;
    },
  );
}
