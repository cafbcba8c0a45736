import type { ServiceApp } from '#shared/http.ts';
import { ChargeRequest, OrderParams, PaymentResult, RefundRequest } from '#shared/messages.ts';
import type { Ledger } from './ledger.ts';
import { LedgerView } from './schemas.ts';

export function registerRoutes(app: ServiceApp, ledger: Ledger): void {
  app.post('/charge', { schema: { body: ChargeRequest, response: { 200: PaymentResult } } }, (request) =>
    ledger.charge(request.body.orderId, request.body.customer, request.body.amount),
  );

  app.post('/refund', { schema: { body: RefundRequest, response: { 200: PaymentResult } } }, (request) =>
    ledger.refund(request.body.orderId),
  );

  app.get(
    '/payments/:orderId',
    { schema: { params: OrderParams, response: { 200: LedgerView } } },
    async (request) => ({
      orderId: request.params.orderId,
      entries: await ledger.entries(request.params.orderId),
    }),
  );
}
