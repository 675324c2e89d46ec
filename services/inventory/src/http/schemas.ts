import { z } from 'zod';

export const skuSchema = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/,
    '1 to 64 letters, digits, dots, dashes or underscores, starting with a letter or digit',
  );
const currency = z.string().regex(/^[A-Z]{3}$/, 'an ISO 4217 code such as USD');
const price = z.number().int().min(0).max(100_000_000);
const stock = z.number().int().min(0).max(1_000_000_000);

const line = z.strictObject({ sku: skuSchema, quantity: z.number().int().min(1).max(1000) });
/** Lines as the saga forwards them from order_created: extra fields (unitPrice) are ignored. */
const forwardedLine = z.object({ sku: skuSchema, quantity: z.number().int().min(1).max(1000) });

export const quoteBody = z.strictObject({ items: z.array(line).min(1).max(50) });

export const reserveBody = z.object({
  orderId: z.uuid(),
  items: z.array(forwardedLine).min(1).max(50),
  ttlSeconds: z.number().int().min(1).max(86_400).default(900),
});

export const releaseBody = z.object({ reason: z.string().min(1).max(200).default('released') }).default({
  reason: 'released',
});

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
