import { z } from 'zod';

export const ShippingStatus = z.object({ active: z.boolean(), message: z.string() });
