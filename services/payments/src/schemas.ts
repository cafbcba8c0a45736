import { z } from 'zod';
import { LedgerEntry, OrderId } from '#shared/messages.ts';

export const OrderParams = z.strictObject({ orderId: OrderId });
export const LedgerView = z.object({ orderId: OrderId, entries: z.array(LedgerEntry) });
