// The messages between services: one zod schema per shape, the single source of truth for validation
// and types on both sides of every service invocation and of the notifications topic.
import { z } from 'zod';
import { EVENT_KINDS, FAILED_STEPS } from './lifecycle.ts';

/** What the shop sells; inventory keeps a stock count for each. */
export const ITEM_NAMES = ['milk', 'bread', 'apples', 'oranges', 'iPhone'] as const;
export const ItemName = z.enum(ITEM_NAMES);
export type ItemName = z.infer<typeof ItemName>;

export const OrderId = z.string().regex(/^order_[a-z0-9]{1,64}_[a-z0-9]{5}$/, 'an order id such as order_riley_x7k2p');

/** The path parameters of every route about one order. */
export const OrderParams = z.strictObject({ orderId: OrderId });

/** An approver's decision, as POST /orders/:orderId/approve takes it (and the page's proxy passes it on). */
export const ApprovalRequest = z.strictObject({
  /** Optional: the approver is the one the bearer token belongs to; a different name here is refused. */
  approver: z.string().trim().min(1).max(64).optional(),
  approved: z.boolean(),
});
export type ApprovalRequest = z.infer<typeof ApprovalRequest>;

/** Money in dollars with at most two decimals. */
export const Amount = z
  .number()
  .positive()
  .max(1_000_000)
  .refine((value) => Math.abs(Math.round(value * 100) - value * 100) < 1e-6, 'at most 2 decimals');

export const ReserveRequest = z.strictObject({ orderId: OrderId, items: z.array(ItemName).min(1).max(50) });
export type ReserveRequest = z.infer<typeof ReserveRequest>;
export const ReserveResult = z.object({
  orderId: OrderId,
  reserved: z.boolean(),
  /** Items there were not enough of (empty when reserved). */
  short: z.array(ItemName),
  /** The order was released before this reserve arrived: it holds nothing and never will. */
  voided: z.boolean().optional(),
});
export type ReserveResult = z.infer<typeof ReserveResult>;

export const ReleaseRequest = z.strictObject({ orderId: OrderId });
export const ReleaseResult = z.object({ orderId: OrderId, released: z.boolean() });
export type ReleaseResult = z.infer<typeof ReleaseResult>;

export const ChargeRequest = z.strictObject({ orderId: OrderId, customer: z.string().min(1), amount: Amount });
export type ChargeRequest = z.infer<typeof ChargeRequest>;
export const RefundRequest = z.strictObject({ orderId: OrderId });

export const LedgerEntry = z.object({
  orderId: OrderId,
  kind: z.enum(['charge', 'refund']),
  amount: Amount,
  customer: z.string(),
  at: z.iso.datetime(),
});
export type LedgerEntry = z.infer<typeof LedgerEntry>;
/** A refund that found no charge answers `entry: null, voided: true`: a charge after it is refused. */
export const PaymentResult = z.object({
  orderId: OrderId,
  entry: LedgerEntry.nullable(),
  voided: z.boolean().optional(),
});
export type PaymentResult = z.infer<typeof PaymentResult>;

export const ShipRequest = z.strictObject({ orderId: OrderId, customer: z.string().min(1), items: z.array(ItemName) });
export type ShipRequest = z.infer<typeof ShipRequest>;
export const ShipResult = z.object({ orderId: OrderId, shipmentId: z.string(), shippedAt: z.iso.datetime() });
export type ShipResult = z.infer<typeof ShipResult>;
export const CancelShipmentRequest = z.strictObject({ orderId: OrderId });
/** The shipment if the goods went out (it cannot be cancelled), else null: cancelled, a ship after it is refused. */
export const CancelShipmentResult = z.object({ orderId: OrderId, shipment: ShipResult.nullable() });
export type CancelShipmentResult = z.infer<typeof CancelShipmentResult>;

/** The kinds of order event, in the workflow's order: the lifecycle (lifecycle.ts) defines them and what they mean. */
export const NotificationKind = z.enum(EVENT_KINDS);
export type NotificationKind = z.infer<typeof NotificationKind>;

/**
 * One event of one order, published to topic `notifications`. `id` is stable, so redeliveries dedupe. The
 * data is in fields, each on the kinds noted; `text` says it for people and is never parsed. Every field
 * beyond the first five is optional: events published before it existed (still in the stream, in stored
 * timelines, or in the recorded input of a step in flight) lack it, and their readers do without.
 */
export const Notification = z.object({
  id: z.string(),
  orderId: OrderId,
  time: z.iso.datetime(),
  kind: NotificationKind,
  text: z.string(),
  /** Every kind: the order's customer. */
  customer: z.string().optional(),
  /** `received`: what was ordered. */
  items: z.array(ItemName).optional(),
  /** `received`, `waiting_for_approval`, `paid`: the order's total, in dollars. */
  total: Amount.optional(),
  /** `out_of_stock`: the items there were too few of. */
  short: z.array(ItemName).optional(),
  /** `waiting_for_approval`, `approval_timed_out`: when the order is released unless someone approves it. */
  deadline: z.iso.datetime().optional(),
  /** `approved`, `rejected`, `cancelled`: who decided. */
  approver: z.string().optional(),
  /** `payment_failed`, `shipping_failed`, `compensated`: the step whose failure failed the order. */
  failedStep: z.enum(FAILED_STEPS).optional(),
  /** `payment_failed`, `shipping_failed`, `compensated`: the cause, as the failed step reported it. */
  reason: z.string().optional(),
  /** `compensated`: the undos that still failed after their retries (none: everything was undone). */
  undoFailed: z.array(z.string()).optional(),
  /** The step that ends the order: its result, as the workflow returns it (or the failure's message). */
  result: z.object({ success: z.boolean(), message: z.string() }).optional(),
});
export type Notification = z.infer<typeof Notification>;
