import { skuSchema } from '@ecom/shared';
import { z } from 'zod';

const currency = z.string().regex(/^[A-Z]{3}$/, 'an ISO 4217 code such as USD');
const price = z.number().int().min(0).max(100_000_000);
const stock = z.number().int().min(0).max(1_000_000_000);

export const orderIdParam = z.object({ orderId: z.uuid() });
export const skuParam = z.object({ sku: skuSchema });

export const listQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().min(1).max(200).optional(),
});

export const createProductBody = z.strictObject({
  sku: skuSchema,
  name: z.string().trim().min(1).max(200),
  price,
  currency,
  stock,
});

export const updateProductBody = z
  .strictObject({
    name: z.string().trim().min(1).max(200).optional(),
    price: price.optional(),
    currency: currency.optional(),
    /** Sets the available stock. */
    stock: stock.optional(),
    /** Adds to (or, negative, takes from) the available stock. */
    stockDelta: z.number().int().min(-1_000_000_000).max(1_000_000_000).optional(),
  })
  .refine((b) => Object.keys(b).length > 0, { message: 'give at least one field to change' })
  .refine((b) => b.stock === undefined || b.stockDelta === undefined, {
    message: 'give stock or stockDelta, not both',
    path: ['stockDelta'],
  });
