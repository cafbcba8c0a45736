import { z } from 'zod';
import { ItemName, OrderId } from '#shared/messages.ts';

export const StockView = z.object({ stock: z.record(ItemName, z.number().int()) });
export const ReservationView = z.object({
  orderId: OrderId,
  items: z.array(ItemName),
  status: z.enum(['reserved', 'rejected', 'released', 'voided']),
  short: z.array(ItemName),
});
