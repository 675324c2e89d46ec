/**
 * One spelling per address, so `Ada@Example.com ` and `ada@example.com` are the
 * same account: Unicode NFKC, trimmed, lower-cased as a whole (providers treat
 * the local part case-insensitively in practice; being stricter would let two
 * accounts share an inbox).
 */
export function normaliseEmail(email: string): string {
  return email.normalize('NFKC').trim().toLowerCase();
}
