// GET /orders: the order list, from the index in the state store. Customers' names are personal data,
// so only the people who run the shop may list: an approver's token or the admin token.
import type { FastifyRequest } from 'fastify';
import { type Approver, bearerToken, safeEqual } from '#shared/auth.ts';
import { DaprError } from '#shared/dapr.ts';
import { HttpProblem, type ServiceApp } from '#shared/http.ts';
import { decodeCursor, encodeCursor, type ListQuery, listOrders } from './orderIndex/listing.ts';
import type { IndexedOrder } from './orderIndex/model.ts';
import type { OrderIndex } from './orderIndex/orderIndex.ts';
import { OrderList, type OrderListItem, OrderListQuery } from './schemas.ts';

export interface ListRouteOptions {
  index: Pick<OrderIndex, 'store'>;
  approvers: Approver[];
  adminToken: string | undefined;
}

function toItem(record: IndexedOrder): OrderListItem {
  const waiting = record.lastStep === 'waiting_for_approval';
  return {
    id: record.id,
    customer: record.customer,
    status: record.status,
    last_step: record.lastStep as OrderListItem['last_step'],
    created_time: record.createdAt,
    last_updated_time: record.updatedAt,
    ...(waiting && record.deadline ? { approval_deadline: record.deadline } : {}),
    flags: record.flags ?? [],
  };
}

/** 401 unless the request carries an approver's or the admin token (every one is compared: constant time). */
function requireReader(approvers: Approver[], adminToken: string | undefined) {
  return async (request: FastifyRequest): Promise<void> => {
    const token = bearerToken(request);
    if (!token) throw new HttpProblem(401, 'listing orders needs Authorization: Bearer <approver or admin token>');
    let known = adminToken !== undefined && safeEqual(token, adminToken);
    for (const approver of approvers) known = safeEqual(token, approver.token) || known;
    if (!known) throw new HttpProblem(401, 'unknown token: listing orders needs an approver or the admin token');
  };
}

export function registerListRoute(app: ServiceApp, { index, approvers, adminToken }: ListRouteOptions): void {
  app.get(
    '/orders',
    {
      // Before validation: a caller without a token learns nothing, not even which filters are wrong.
      onRequest: requireReader(approvers, adminToken),
      schema: { querystring: OrderListQuery, response: { 200: OrderList } },
    },
    async (request) => {
      const { status, last_step, customer, from, to, limit, cursor } = request.query;
      const query: ListQuery = { limit };
      if (status) query.status = status;
      if (last_step) query.lastStep = last_step;
      if (customer) query.customer = customer;
      if (from) query.from = Date.parse(from);
      if (to) query.to = Date.parse(to);
      if (query.from !== undefined && query.to !== undefined && query.from >= query.to) {
        throw new HttpProblem(422, 'querystring: from must be earlier than to');
      }
      if (cursor !== undefined) {
        const after = decodeCursor(cursor);
        if (!after) throw new HttpProblem(400, 'querystring.cursor: not a cursor this API gave out');
        query.after = after;
      }
      const page = await listOrders(index.store, query).catch((error: unknown) => {
        // The state store (or the sidecar in front of it) did not answer: worth another try, not a 500.
        if (!(error instanceof DaprError) && (error as { code?: unknown }).code === undefined) throw error;
        request.log.warn({ err: error }, 'the order index could not be read');
        throw new HttpProblem(503, 'the order index is not reachable right now; try again in a moment');
      });
      return {
        orders: page.orders.map(toItem),
        ...(page.next ? { next_cursor: encodeCursor(page.next) } : {}),
      };
    },
  );
}
