import { cursorCodec } from '@ecom/shared';
import { z } from 'zod';

/** Opaque pagination cursor for GET /products: the last sku of the previous page. */
export const productCursor = cursorCodec(z.string().min(1).max(64));
