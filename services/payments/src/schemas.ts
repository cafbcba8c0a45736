import { z } from 'zod';
import { LedgerEntry, OrderId } from '#shared/messages.ts';

export const LedgerView = z.object({ orderId: OrderId, entries: z.array(LedgerEntry) });
