// The order projection's routes for orderprocessing (sidecar-only: its sidecar presents this app's token,
// and this app's access control lets only orderprocessing's sidecar in): GET /orders's pages, the
// watchdog's running set and records, the final summary of an order whose history is purged, and what no
// event says (an order purged, or ended through Dapr directly). Schemas: #shared/orderProjection.ts.
import { z } from 'zod';
import type { ServiceApp } from '#shared/http.ts';
import { OrderParams } from '#shared/messages.ts';
import {
  EndedRequest,
  FinalSummary,
  IndexedOrder,
  ListPage,
  ListRequest,
  PurgedRequest,
  RunningOrders,
} from '#shared/orderProjection.ts';
import { listOrders } from './orderIndex/listing.ts';
import type { OrderIndex } from './orderIndex/orderIndex.ts';

export const PROJECTION_PREFIX = '/projection/';

export function registerProjectionRoutes(app: ServiceApp, index: OrderIndex): void {
  app.post('/projection/list', { schema: { body: ListRequest, response: { 200: ListPage } } }, (request) =>
    listOrders(index.store, request.body),
  );

  app.get('/projection/running', { schema: { response: { 200: RunningOrders } } }, async () => ({
    orders: await index.runningOrders(),
  }));

  app.get(
    '/projection/orders/:orderId',
    { schema: { params: OrderParams, response: { 200: z.object({ order: IndexedOrder.nullable() }) } } },
    async (request) => ({ order: (await index.find(request.params.orderId)) ?? null }),
  );

  app.get(
    '/projection/orders/:orderId/final',
    { schema: { params: OrderParams, response: { 200: z.object({ final: FinalSummary.nullable() }) } } },
    async (request) => ({ final: (await index.final(request.params.orderId)) ?? null }),
  );

  app.post(
    '/projection/orders/:orderId/ended',
    { schema: { params: OrderParams, body: EndedRequest } },
    async (request, reply) => {
      await index.markEnded(request.params.orderId, request.body.status, request.body.at);
      return reply.code(204).send();
    },
  );

  const NoBody = z.strictObject({});
  app.post(
    '/projection/orders/:orderId/purged',
    { schema: { params: OrderParams, body: PurgedRequest } },
    async (request, reply) => {
      await index.markPurged(request.params.orderId, request.body.final);
      return reply.code(204).send();
    },
  );

  // The running entry set anew from the record (or dropped): the watchdog found it stale.
  app.post(
    '/projection/orders/:orderId/repair',
    { schema: { params: OrderParams, body: NoBody } },
    async (request, reply) => {
      await index.repairRunning(request.params.orderId, await index.find(request.params.orderId));
      return reply.code(204).send();
    },
  );
}
