// The public API's shapes: validation, TypeScript types and (later) the OpenAPI document come from these.

import { z } from 'zod';
import { STEP_KINDS, WATCHDOG_FLAGS } from '#shared/lifecycle.ts';
import { Amount, ItemName } from '#shared/messages.ts';

/**
 * A name as people write it: letters, marks, digits, punctuation, symbols and spaces. Control, format and
 * bidi characters could forge a log line or reorder what the page shows, so they are refused.
 */
export const CustomerName = z
  .string()
  .trim()
  .min(1)
  .max(64)
  .regex(
    /^[\p{L}\p{M}\p{N}\p{P}\p{S}\p{Zs}]+$/u,
    'only printable characters: letters, digits, punctuation, symbols, spaces',
  );

export const OrderRequest = z.strictObject({
  customer: CustomerName,
  items: z.array(ItemName).min(1).max(50),
  total: Amount,
});
export type OrderRequest = z.infer<typeof OrderRequest>;

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
  /** The version of the order workflow it runs on (it finishes on the one it started on). */
  workflow_version: z.number().int().optional(),
  order_result: OrderResult.optional(),
  failure_details: FailureDetails.optional(),
  /** Its workflow history was purged: this is the summary kept of how it ended. */
  archived: z.boolean().optional(),
  /** The order's trace (from POST /orders to its end) and where to see it in Zipkin, when it was traced. */
  trace_id: z.string().optional(),
  trace_url: z.url().optional(),
});
export type OrderView = z.infer<typeof OrderView>;

export const Message = z.object({ message: z.string() });

// GET /orders: the order projection (built by notifications), newest first, in pages.

export const ListedStatus = z.enum(['RUNNING', 'COMPLETED', 'FAILED', 'TERMINATED']);
/** The workflow's steps (the watchdog's flags are not steps: see `flags`). */
export const OrderStep = z.enum(STEP_KINDS);

export const OrderListQuery = z.strictObject({
  status: ListedStatus.optional(),
  /** The order's latest step, e.g. waiting_for_approval or paid. */
  last_step: OrderStep.optional(),
  /** The customer's name, in any case. */
  customer: CustomerName.optional(),
  /** Created at or after this time. */
  from: z.iso.datetime({ offset: true }).optional(),
  /** Created before this time. */
  to: z.iso.datetime({ offset: true }).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  /** `next_cursor` of the page before. */
  cursor: z.string().min(1).max(400).optional(),
});
export type OrderListQuery = z.infer<typeof OrderListQuery>;

export const OrderListItem = z.object({
  id: z.string(),
  customer: z.string(),
  status: ListedStatus,
  last_step: OrderStep,
  created_time: z.iso.datetime(),
  last_updated_time: z.iso.datetime(),
  /** While the order waits for approval. */
  approval_deadline: z.iso.datetime().optional(),
  /** What the stuck-order watchdog raised about it. */
  flags: z.array(z.enum(WATCHDOG_FLAGS)),
});
export type OrderListItem = z.infer<typeof OrderListItem>;

export const OrderList = z.object({
  orders: z.array(OrderListItem),
  /** Pass it as `cursor` for the next page; absent when there is nothing older. */
  next_cursor: z.string().optional(),
});
