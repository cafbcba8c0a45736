import { z } from 'zod';
import { LedgerEntry, OrderId } from '#shared/messages.ts';

export const LedgerView = z.object({
  orderId: OrderId,
  entries: z.array(LedgerEntry),
  /** Set when a refund came before any charge: the order is never charged. */
  voidedAt: z.iso.datetime().optional(),
});
