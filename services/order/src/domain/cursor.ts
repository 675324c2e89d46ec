import { cursorCodec, isoInstant } from '@ecom/shared';
import { z } from 'zod';
import type { ListPosition } from './model';

/** Opaque keyset cursor for GET /orders: `[createdAt, orderId]` of the last order of a page. */
export const orderCursor = cursorCodec(
  z.codec(z.tuple([isoInstant, z.guid()]), z.object({ createdAt: z.date(), orderId: z.string() }), {
    decode: ([createdAt, orderId]): ListPosition => ({ createdAt, orderId }),
    encode: (position): [Date, string] => [position.createdAt, position.orderId],
  }),
);
