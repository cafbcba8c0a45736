import { problems } from '#shared/errors.ts';
import type { ServiceApp } from '#shared/http.ts';
import { ChargeRequest, OrderParams, PaymentResult, RefundRequest } from '#shared/messages.ts';
import type { Ledger } from './ledger.ts';
import { LedgerView } from './schemas.ts';

export function registerRoutes(app: ServiceApp, ledger: Ledger): void {
  app.post(
    '/charge',
    { schema: { body: ChargeRequest, response: { 200: PaymentResult, ...problems(401, 409, 422) } } },
    (request) => ledger.charge(request.body.orderId, request.body.customer, request.body.amount),
  );

  app.post(
    '/refund',
    { schema: { body: RefundRequest, response: { 200: PaymentResult, ...problems(401, 422) } } },
    (request) => ledger.refund(request.body.orderId),
  );

  app.get(
    '/payments/:orderId',
    { schema: { params: OrderParams, response: { 200: LedgerView, ...problems(401, 422) } } },
    async (request) => ({ orderId: request.params.orderId, ...(await ledger.ledger(request.params.orderId)) }),
  );
}
