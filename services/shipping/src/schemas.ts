import { z } from 'zod';
import { OrderId } from '#shared/messages.ts';

export const OrderParams = z.strictObject({ orderId: OrderId });
export const ShippingStatus = z.object({ active: z.boolean(), message: z.string() });
