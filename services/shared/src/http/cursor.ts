import { z } from 'zod';
import { AppError } from '../errors/app-error';
import { unstorableText } from './storable-text';

/**
 * An instant exactly as `Date#toISOString()` writes it for years 0001 to 9999, and nothing else.
 * JavaScript dates reach from year -271821 to 275760 and `new Date()` reads many formats, but
 * PostgreSQL's timestamptz refuses year 0 and anything before 4713 BC: a cursor carrying such
 * a date must fail here as a 400, not in the query as a 500.
 */
export const isoInstant = z.codec(
  z
    .string()
    .regex(
      /^(?!0000)\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/,
      'an ISO 8601 UTC instant with milliseconds',
    )
    .refine((text) => {
      const at = new Date(text);
      return !Number.isNaN(at.getTime()) && at.toISOString() === text;
    }, 'not a calendar instant'),
  z.date(),
  { decode: (text) => new Date(text), encode: (at) => at.toISOString() },
);

/** Opaque list cursors are base64url of a short JSON value. */
const CURSOR_TEXT = /^[A-Za-z0-9_-]{1,1024}$/;

/** A keyset position a list hands out as `nextCursor` and reads back from `?cursor=`. */
export interface CursorCodec<Position> {
  encode(position: Position): string;
  /** The position a cursor from `encode` carries; anything else is INVALID_DATA naming `cursor`. */
  decode(cursor: string): Position;
}

function invalidCursor(): AppError {
  return AppError.invalid('cursor is invalid', [
    { field: 'cursor', message: 'not a cursor from a previous page' },
  ]);
}

/**
 * The one cursor format of ecom-micro: the JSON of `schema`'s input, base64url-encoded. Decoding
 * takes back only what encoding could have written (canonical base64url of UTF-8 JSON that
 * `schema` accepts, with storable strings), so a tampered cursor never reaches a store.
 */
export function cursorCodec<S extends z.ZodType>(schema: S): CursorCodec<z.output<S>> {
  return {
    encode(position) {
      return Buffer.from(JSON.stringify(z.encode(schema, position)), 'utf8').toString('base64url');
    },
    decode(cursor) {
      if (!CURSOR_TEXT.test(cursor)) throw invalidCursor();
      const json = Buffer.from(cursor, 'base64url').toString('utf8');
      // Node reads base64url leniently and replaces bytes that are not UTF-8: insist on the exact text.
      if (Buffer.from(json, 'utf8').toString('base64url') !== cursor) throw invalidCursor();
      let wire: unknown;
      try {
        wire = JSON.parse(json);
      } catch {
        throw invalidCursor();
      }
      if (unstorableText(wire, 'cursor').length > 0) throw invalidCursor();
      const position = schema.safeParse(wire);
      if (!position.success) throw invalidCursor();
      return position.data;
    },
  };
}
