import { z } from 'zod';

/** E.164: a plus, a country code that does not start with 0, at most 15 digits in all. */
export const e164 = z.string().regex(/^\+[1-9]\d{6,14}$/, 'must be an E.164 number such as +4915112345678');

const text = (max: number) => z.string().trim().min(1).max(max);

export const addressBody = z.strictObject({
  label: text(40).optional(),
  line1: text(200),
  line2: text(200).optional(),
  city: text(100),
  region: text(100).optional(),
  postalCode: text(20),
  country: z.string().regex(/^[A-Z]{2}$/, 'must be an ISO 3166-1 alpha-2 code such as DE'),
});

export const patchProfileBody = z
  .strictObject({
    name: text(100).optional(),
    phone: e164.nullable().optional(),
    addresses: z.array(addressBody).max(10).optional(),
  })
  .refine((body) => Object.keys(body).length > 0, { message: 'give at least one of name, phone, addresses' });

export const listQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().min(1).max(200).optional(),
});

export const userIdParam = z.object({ id: z.string().min(1).max(100) });
