import type { ListPosition } from './model';

/** Opaque keyset cursor for GET /orders. */
export function encodeCursor(position: ListPosition): string {
  return Buffer.from(JSON.stringify([position.createdAt.toISOString(), position.orderId])).toString(
    'base64url',
  );
}

/** Returns undefined for anything this service did not produce. */
export function decodeCursor(cursor: string): ListPosition | undefined {
  try {
    const decoded: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (!Array.isArray(decoded) || decoded.length !== 2) return undefined;
    const [at, orderId] = decoded as unknown[];
    if (typeof at !== 'string' || typeof orderId !== 'string') return undefined;
    const createdAt = new Date(at);
    if (Number.isNaN(createdAt.getTime()) || !/^[0-9a-f-]{36}$/i.test(orderId)) return undefined;
    return { createdAt, orderId };
  } catch {
    return undefined;
  }
}
