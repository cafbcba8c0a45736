// The order API: place, read, approve or reject, cancel, purge. Each handler calls the order service;
// its error answers are in its schema (and so in the OpenAPI document).
import { trace } from '@opentelemetry/api';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { type Approver, authenticateApprover, maskName, type Role, requireAdmin, roleOf } from '#shared/auth.ts';
import { Problem, problems } from '#shared/errors.ts';
import { ApprovalRequest, OrderParams } from '#shared/messages.ts';
import { limit } from '#shared/rateLimits.ts';
import type { DecisionOutcome } from '../orderService.ts';
import { IdempotencyHeaders, Message, OrderAccepted, OrderRequest, OrderView } from '../schemas.ts';
import { newWorkflowTrace, traceIdOf } from '../workflow/tracing.ts';

export interface OrderRoutesOptions {
  approvers: Approver[];
  /** ADMIN_TOKEN, for the operator endpoints. */
  adminToken: string | undefined;
  /** Requests per client and minute, across the replicas: placing, deciding (approve, cancel, purge), reading. */
  limits: { orders: number; decisions: number; reads: number };
  /** Base of the Location header, e.g. http://localhost:3000. */
  publicUrl: string;
  /** Zipkin's UI, e.g. http://localhost:9411: GET /orders/:id links to the order's trace there. */
  zipkinUrl: string;
}

/** The customer's name whole for the shop's people only, the stack trace of a failure for the admin only. */
function visibleTo(view: OrderView, role: Role): OrderView {
  const { failure_details: failure, ...rest } = view;
  const shown: OrderView = { ...rest, details: { ...view.details, customer: maskName(view.details.customer, role) } };
  if (!failure) return shown;
  const { stack_trace, ...withoutTrace } = failure;
  return { ...shown, failure_details: role === 'admin' ? failure : withoutTrace };
}

const decisionMessage = (what: string, id: string, outcome: DecisionOutcome) =>
  outcome === 'sent'
    ? `${what} sent to order ${id}`
    : `${what} kept for order ${id}: it applies as soon as the order waits for approval`;

const orderRoutes: FastifyPluginAsyncZod<OrderRoutesOptions> = async (app, options) => {
  const { orders } = app;
  const locationOf = (id: string) => `${options.publicUrl}/orders/${id}`;

  app.post(
    '/orders',
    {
      config: limit('orders', options.limits.orders),
      schema: {
        body: OrderRequest,
        headers: IdempotencyHeaders,
        response: { 202: OrderAccepted, ...problems(400, 413, 422, 429, 503) },
      },
    },
    async (request, reply) => {
      const idempotencyKey = request.headers['idempotency-key'];
      const workflowTrace = newWorkflowTrace();
      const id = await orders.place(request.body, {
        ...(idempotencyKey ? { idempotencyKey } : {}),
        ...(workflowTrace ? { trace: workflowTrace } : {}),
      });
      trace.getActiveSpan()?.setAttribute('order.id', id);
      return reply
        .code(202)
        .header('location', locationOf(id))
        .send({ id, status_url: locationOf(id) });
    },
  );

  app.get(
    '/orders/:orderId',
    {
      config: limit('reads', options.limits.reads),
      schema: { params: OrderParams, response: { 200: OrderView, ...problems(401, 404, 422, 429, 503) } },
    },
    async (request) => {
      const role = roleOf(request, options.approvers, options.adminToken);
      const found = await orders.view(request.params.orderId);
      const view = visibleTo(found.view, role);
      const traceId = traceIdOf(found.trace);
      if (!traceId) return view;
      const trace_url = `${options.zipkinUrl.replace(/\/$/, '')}/zipkin/traces/${traceId}`;
      return { ...view, trace_id: traceId, trace_url };
    },
  );

  app.post(
    '/orders/:orderId/approve',
    {
      config: limit('decisions', options.limits.decisions),
      schema: {
        params: OrderParams,
        body: ApprovalRequest,
        response: { 202: Message, ...problems(401, 403, 404, 409, 422, 429, 503) },
      },
    },
    async (request, reply) => {
      const { orderId: id } = request.params;
      const approver = authenticateApprover(request, options.approvers);
      const claimed = request.body.approver;
      if (claimed && claimed.toLowerCase() !== approver.name.toLowerCase()) {
        throw new Problem('forbidden', `this token belongs to ${approver.name}, not to ${claimed}`);
      }
      const outcome = await orders.decide(id, { approver: approver.name, approved: request.body.approved });
      const verb = request.body.approved ? 'approval' : 'rejection';
      return reply.code(202).send({ message: decisionMessage(`${verb} by ${approver.name}`, id, outcome) });
    },
  );

  app.post(
    '/orders/:orderId/cancel',
    {
      config: limit('decisions', options.limits.decisions),
      schema: { params: OrderParams, response: { 202: Message, ...problems(401, 404, 409, 422, 429, 503) } },
    },
    async (request, reply) => {
      const { orderId: id } = request.params;
      const approver = authenticateApprover(request, options.approvers);
      const outcome = await orders.cancel(id, approver.name);
      return reply.code(202).send({ message: decisionMessage(`cancellation by ${approver.name}`, id, outcome) });
    },
  );

  // Dapr refuses to reuse an instance id until its history is purged: operators free finished ones.
  app.delete(
    '/orders/:orderId',
    {
      config: limit('decisions', options.limits.decisions),
      preHandler: requireAdmin(options.adminToken),
      schema: { params: OrderParams, response: { 200: Message, ...problems(401, 404, 409, 422, 429, 503) } },
    },
    async (request) => {
      await orders.purge(request.params.orderId);
      return { message: `order ${request.params.orderId} purged` };
    },
  );
};

export default orderRoutes;
