// GET /orders: the order list, a page of the order projection (built by notifications from the events,
// read through Dapr service invocation). Customers' names are personal data, so only the people who run
// the shop may list: an approver's token or the admin token.
import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { type Approver, roleOf } from '#shared/auth.ts';
import { Problem, problems, Unauthorized } from '#shared/errors.ts';
import type { IndexedOrder, ListRequest, Position } from '#shared/orderProjection.ts';
import { limit } from '#shared/rateLimits.ts';
import { unavailableIfUnreached } from '../orderProjection.ts';
import { OrderList, type OrderListItem, OrderListQuery } from '../schemas.ts';

const CursorShape = z.strictObject({ v: z.literal(1), at: z.number().int().min(0), id: z.string().min(1).max(200) });

/** An opaque cursor: base64url of the position. */
export function encodeCursor(position: Position): string {
  return Buffer.from(JSON.stringify({ v: 1, ...position })).toString('base64url');
}

/** The position in a cursor, or undefined when the text is not a cursor this API gave out. */
export function decodeCursor(text: string): Position | undefined {
  if (!/^[A-Za-z0-9_-]{1,400}$/.test(text)) return undefined;
  try {
    const parsed = CursorShape.safeParse(JSON.parse(Buffer.from(text, 'base64url').toString('utf8')));
    return parsed.success ? { at: parsed.data.at, id: parsed.data.id } : undefined;
  } catch {
    return undefined;
  }
}

export interface ListRouteOptions {
  approvers: Approver[];
  adminToken: string | undefined;
  /** GET /orders per client and minute, with the other reads. */
  readsPerMinute: number;
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

/** 401 unless the request carries an approver's or the admin token. */
function requireReader(approvers: Approver[], adminToken: string | undefined) {
  return async (request: FastifyRequest): Promise<void> => {
    if (roleOf(request, approvers, adminToken) === 'anonymous') {
      throw new Unauthorized('listing orders needs Authorization: Bearer <approver or admin token>');
    }
  };
}

/** The query as the listing takes it; 422 or 400 for filters that cannot be. */
function listQuery(query: OrderListQuery): ListRequest {
  const { status, last_step, customer, from, to, limit, cursor } = query;
  const list: ListRequest = { limit };
  if (status) list.status = status;
  if (last_step) list.lastStep = last_step;
  if (customer) list.customer = customer;
  if (from) list.from = Date.parse(from);
  if (to) list.to = Date.parse(to);
  if (list.from !== undefined && list.to !== undefined && list.from >= list.to) {
    throw new Problem('invalid', 'querystring: from must be earlier than to');
  }
  if (cursor !== undefined) {
    const after = decodeCursor(cursor);
    if (!after) throw new Problem('bad_request', 'querystring.cursor: not a cursor this API gave out');
    list.after = after;
  }
  return list;
}

const listRoute: FastifyPluginAsyncZod<ListRouteOptions> = async (app, { approvers, adminToken, readsPerMinute }) => {
  app.get(
    '/orders',
    {
      // Before validation: a caller without a token learns nothing, not even which filters are wrong.
      onRequest: requireReader(approvers, adminToken),
      config: limit('reads', readsPerMinute),
      schema: { querystring: OrderListQuery, response: { 200: OrderList, ...problems(400, 401, 422, 429, 503) } },
    },
    async (request) => {
      const page = await app.orderProjection.list(listQuery(request.query)).catch((error: unknown) => {
        throw unavailableIfUnreached(error, 'the order list is not reachable right now; try again in a moment');
      });
      return { orders: page.orders.map(toItem), ...(page.next ? { next_cursor: encodeCursor(page.next) } : {}) };
    },
  );
};

export default listRoute;
