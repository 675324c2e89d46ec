/** Opaque pagination cursor: the last sku of the previous page, base64url-encoded. */
export function encodeCursor(sku: string): string {
  return Buffer.from(sku, 'utf8').toString('base64url');
}

/** Returns undefined for a cursor this service did not produce. */
export function decodeCursor(cursor: string): string | undefined {
  if (!/^[A-Za-z0-9_-]+$/.test(cursor)) return undefined;
  const sku = Buffer.from(cursor, 'base64url').toString('utf8');
  return sku.length > 0 && encodeCursor(sku) === cursor ? sku : undefined;
}
