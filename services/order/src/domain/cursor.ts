import { cursorCodec, isoInstant } from '@ecom/shared';
import { z } from 'zod';
import type { ListPosition } from './model';

/** Opaque keyset cursor for GET /orders: `[createdAt, orderId, offset]` of the last order of a page. */
export const orderCursor = cursorCodec(
  z.codec(
    z.tuple([isoInstant, z.guid(), z.number().int().min(0).max(1_000_000_000)]),
    z.object({ createdAt: z.date(), orderId: z.string(), offset: z.number() }),
    {
      decode: ([createdAt, orderId, offset]): ListPosition => ({ createdAt, orderId, offset }),
      encode: (position): [Date, string, number] => [position.createdAt, position.orderId, position.offset],
    },
  ),
);
