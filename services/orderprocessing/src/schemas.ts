// The public API's shapes: validation, TypeScript types and (later) the OpenAPI document come from these.

import { z } from 'zod';
import { Amount, ItemName } from '#shared/messages.ts';

export const OrderRequest = z.strictObject({
  customer: z.string().trim().min(1).max(64),
  items: z.array(ItemName).min(1).max(50),
  total: Amount,
});
export type OrderRequest = z.infer<typeof OrderRequest>;

export const ApprovalRequest = z.strictObject({
  /** Optional: the approver is the one the bearer token belongs to; a different name here is refused. */
  approver: z.string().trim().min(1).max(64).optional(),
  approved: z.boolean(),
});
export type ApprovalRequest = z.infer<typeof ApprovalRequest>;

export const OrderParams = z.strictObject({ id: z.string().min(1).max(200) });

export const IdempotencyHeaders = z.object({
  'idempotency-key': z.string().trim().min(1).max(200).optional(),
});

export const OrderAccepted = z.object({ id: z.string(), status_url: z.string() });

export const OrderResult = z.object({ id: z.string(), success: z.boolean(), message: z.string() });
export type OrderResult = z.infer<typeof OrderResult>;

export const FailureDetails = z.object({
  error_type: z.string(),
  message: z.string(),
  stack_trace: z.string().optional(),
});

export const OrderStatus = z.enum([
  'RUNNING',
  'COMPLETED',
  'FAILED',
  'TERMINATED',
  'PENDING',
  'SUSPENDED',
  'CONTINUED_AS_NEW',
]);

export const OrderView = z.object({
  id: z.string(),
  status: OrderStatus,
  /** Where a running order is: e.g. waiting_for_approval. */
  stage: z.string().optional(),
  created_time: z.iso.datetime(),
  last_updated_time: z.iso.datetime(),
  details: OrderRequest,
  order_result: OrderResult.optional(),
  failure_details: FailureDetails.optional(),
  /** The order's trace (from POST /orders to its end) and where to see it in Zipkin, when it was traced. */
  trace_id: z.string().optional(),
  trace_url: z.url().optional(),
});
export type OrderView = z.infer<typeof OrderView>;

export const Message = z.object({ message: z.string() });
