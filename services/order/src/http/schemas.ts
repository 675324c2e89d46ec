import { z } from 'zod';

const sku = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/,
    '1 to 64 letters, digits, dots, dashes or underscores, starting with a letter or digit',
  );

export const placeOrderBody = z
  .strictObject({
    items: z
      .array(z.strictObject({ sku, quantity: z.number().int().min(1).max(1000) }))
      .min(1)
      .max(50),
    paymentMethod: z.strictObject({ token: z.string().min(1).max(200) }),
  })
  .superRefine((body, ctx) => {
    const seen = new Set<string>();
    body.items.forEach((line, i) => {
      if (seen.has(line.sku)) {
        ctx.addIssue({ code: 'custom', path: ['items', i, 'sku'], message: `sku ${line.sku} appears twice` });
      }
      seen.add(line.sku);
    });
  });

/** Idempotency-Key header: printable, no spaces, at most 200 characters. */
export const idempotencyKeyHeader = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces')
  .optional();

export const orderIdParam = z.object({ id: z.uuid() });
export const listQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().min(1).max(500).optional(),
});

/** The longest a GET /orders/:id may wait for the final status: under the edge's 40 s timeout. */
export const MAX_WAIT_SECONDS = 30;

export const getOrderQuery = z.object({
  waitSeconds: z.coerce
    .number()
    .int()
    .min(0)
    .max(MAX_WAIT_SECONDS)
    .default(0)
    .describe(
      `Wait up to this many seconds (0 to ${MAX_WAIT_SECONDS}) for the order to become PAID or CANCELLED before answering.`,
    ),
});
