import { trace } from '@opentelemetry/api';
import { type Approver, authenticateApprover, requireAdmin } from '#shared/auth.ts';
import { HttpProblem, type ServiceApp } from '#shared/http.ts';
import { newOrderId, orderIdForKey, requestHash } from './orderId.ts';
import type { OrderIndex } from './orderIndex/orderIndex.ts';
import type { OrderBook } from './orders.ts';
import {
  ApprovalRequest,
  IdempotencyHeaders,
  Message,
  OrderAccepted,
  OrderParams,
  OrderRequest,
  OrderView,
} from './schemas.ts';
import { type OrderInput, WAITING_FOR_APPROVAL } from './workflow/orderWorkflow.ts';
import type { RetryPolicy } from './workflow/retry.ts';
import { newWorkflowTrace, traceIdOf } from './workflow/tracing.ts';

export interface OrderRoutesOptions {
  orders: OrderBook;
  approvers: Approver[];
  /** ADMIN_TOKEN, for the operator endpoints. */
  adminToken: string | undefined;
  /** POST /orders per client and minute. */
  ordersPerMinute: number;
  approvalTimeoutMs: number;
  retry: RetryPolicy;
  /** Base of the Location header, e.g. http://localhost:3000. */
  publicUrl: string;
  /** The order index, told of purges (GET /orders leaves them out). */
  index?: Pick<OrderIndex, 'markPurged'> | undefined;
  /** Zipkin's UI, e.g. http://localhost:9411: GET /orders/:id links to the order's trace there. */
  zipkinUrl: string;
}

const inFlight = new Map<string, Promise<{ placed: boolean; existing?: OrderInput }>>();

/**
 * Starts the order's workflow unless an instance with its id exists. Dapr 1.18 quietly recreates a
 * *finished* instance when asked to schedule its id again, so existence is checked first; concurrent
 * requests for one id in this process share one attempt, and the engine refuses a second running one.
 */
function placeOnce(orders: OrderBook, input: OrderInput): Promise<{ placed: boolean; existing?: OrderInput }> {
  let pending = inFlight.get(input.orderId);
  if (!pending) {
    pending = (async () => {
      const existing = await orders.find(input.orderId);
      if (existing) return { placed: false, existing: existing.input };
      if ((await orders.place(input)) === 'placed') return { placed: true };
      return { placed: false, existing: (await orders.find(input.orderId))?.input };
    })().finally(() => inFlight.delete(input.orderId));
    inFlight.set(input.orderId, pending);
  }
  return pending;
}

export function registerRoutes(app: ServiceApp, options: OrderRoutesOptions): void {
  const { orders } = options;
  const locationOf = (id: string) => `${options.publicUrl}/orders/${id}`;

  app.post(
    '/orders',
    {
      config: { rateLimit: { max: options.ordersPerMinute, timeWindow: '1 minute' } },
      schema: { body: OrderRequest, headers: IdempotencyHeaders, response: { 202: OrderAccepted } },
    },
    async (request, reply) => {
      const key = request.headers['idempotency-key'];
      const order = request.body;
      const hash = key ? requestHash(order) : undefined;
      const workflowTrace = newWorkflowTrace();
      const input = (orderId: string): OrderInput => ({
        orderId,
        order,
        approvalTimeoutMs: options.approvalTimeoutMs,
        retry: options.retry,
        ...(hash ? { requestHash: hash } : {}),
        ...(workflowTrace ? { trace: workflowTrace } : {}),
      });

      let id = key ? orderIdForKey(order.customer, key) : newOrderId(order.customer);
      for (let attempt = 1; ; attempt++) {
        const outcome = await placeOnce(orders, input(id));
        if (outcome.placed) break;
        if (key) {
          // The same key again: the same order, unless the body says otherwise.
          if (outcome.existing?.requestHash !== hash) {
            throw new HttpProblem(422, 'this Idempotency-Key was already used for a different order');
          }
          break;
        }
        // A random id that is taken (1 in 60 million): draw another.
        if (attempt >= 3) throw new Error(`could not find a free order id for ${order.customer}`);
        id = newOrderId(order.customer);
      }

      trace.getActiveSpan()?.setAttribute('order.id', id);
      return reply
        .code(202)
        .header('location', locationOf(id))
        .send({ id, status_url: locationOf(id) });
    },
  );

  app.get('/orders/:id', { schema: { params: OrderParams, response: { 200: OrderView } } }, async (request) => {
    const found = await orders.find(request.params.id);
    if (!found) throw new HttpProblem(404, `order ${request.params.id} not found`);
    const traceId = traceIdOf(found.input.trace);
    if (!traceId) return found.view;
    return {
      ...found.view,
      trace_id: traceId,
      trace_url: `${options.zipkinUrl.replace(/\/$/, '')}/zipkin/traces/${traceId}`,
    };
  });

  app.post(
    '/orders/:id/approve',
    { schema: { params: OrderParams, body: ApprovalRequest, response: { 202: Message } } },
    async (request, reply) => {
      const { id } = request.params;
      const approver = authenticateApprover(request, options.approvers);
      const claimed = request.body.approver;
      if (claimed && claimed.toLowerCase() !== approver.name.toLowerCase()) {
        throw new HttpProblem(403, `this token belongs to ${approver.name}, not to ${claimed}`);
      }
      await findWaiting(orders, id, 'approve');
      await orders.raiseApproval(id, { approver: approver.name, approved: request.body.approved });
      const verb = request.body.approved ? 'approval' : 'rejection';
      return reply.code(202).send({ message: `${verb} by ${approver.name} sent to order ${id}` });
    },
  );

  // Only while the order waits for approval: after that it is paid, and undoing it is a refund.
  app.post(
    '/orders/:id/cancel',
    { schema: { params: OrderParams, response: { 202: Message } } },
    async (request, reply) => {
      const { id } = request.params;
      const approver = authenticateApprover(request, options.approvers);
      await findWaiting(orders, id, 'cancel');
      await orders.raiseCancel(id, { by: approver.name });
      return reply.code(202).send({ message: `cancellation by ${approver.name} sent to order ${id}` });
    },
  );

  // Dapr refuses to reuse an instance id until its history is purged: operators free finished ones.
  app.delete(
    '/orders/:id',
    { preHandler: requireAdmin(options.adminToken), schema: { params: OrderParams, response: { 200: Message } } },
    async (request) => {
      const { id } = request.params;
      const found = await orders.find(id);
      if (!found) throw new HttpProblem(404, `order ${id} not found`);
      if (!FINISHED.has(found.view.status)) {
        throw new HttpProblem(409, `order ${id} is ${found.view.status}: only a finished order can be purged`);
      }
      await orders.purge(id);
      await options.index?.markPurged(id);
      return { message: `order ${id} purged` };
    },
  );
}

const FINISHED = new Set(['COMPLETED', 'FAILED', 'TERMINATED']);

/** The order, if it waits for approval now; 404 or 409 (with what it is doing instead) otherwise. */
async function findWaiting(orders: OrderBook, id: string, action: 'approve' | 'cancel') {
  const found = await orders.find(id);
  if (!found) throw new HttpProblem(404, `order ${id} not found`);
  if (found.view.status !== 'RUNNING' || found.view.stage !== WAITING_FOR_APPROVAL) {
    const state = found.view.status === 'RUNNING' ? 'not waiting for approval' : found.view.status;
    throw new HttpProblem(409, `order ${id} is ${state}: there is nothing to ${action}`);
  }
  return found;
}
