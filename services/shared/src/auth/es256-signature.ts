import { base64url } from 'jose';

/**
 * ECDSA signatures are malleable: if (r, s) is valid, so is (r, n − s). Two
 * strings for one token let anything keyed on the token string (a cache, a
 * denylist, a replay check) be sidestepped, so ES256 tokens here carry only the
 * canonical "low-S" form (s ≤ n/2, as Bitcoin's BIP 62 and libsecp256k1 do):
 * auth signs that way and every verifier refuses the other.
 */

/** The order n of the P-256 group. */
const P256_ORDER = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
const HALF_ORDER = P256_ORDER >> 1n;
/** A JWS ES256 signature is r ‖ s, 32 bytes each (IEEE P1363, RFC 7518 §3.4). */
const SCALAR_BYTES = 32;

function toBigInt(bytes: Uint8Array): bigint {
  return BigInt(`0x${Buffer.from(bytes).toString('hex') || '0'}`);
}

function toBytes(value: bigint): Uint8Array {
  return Uint8Array.from(Buffer.from(value.toString(16).padStart(SCALAR_BYTES * 2, '0'), 'hex'));
}

function signatureOf(jws: string): Uint8Array | undefined {
  const parts = jws.split('.');
  if (parts.length !== 3 || !parts[2]) return undefined;
  try {
    const signature = base64url.decode(parts[2]);
    return signature.length === SCALAR_BYTES * 2 ? signature : undefined;
  } catch {
    return undefined;
  }
}

/** True when the compact JWS carries a 64-byte ES256 signature in low-S form. */
export function hasCanonicalEs256Signature(jws: string): boolean {
  const signature = signatureOf(jws);
  if (!signature) return false;
  const s = toBigInt(signature.subarray(SCALAR_BYTES));
  return s > 0n && s <= HALF_ORDER;
}

/** The same compact JWS with its ES256 signature in low-S form (s replaced by n − s when high). */
export function canonicalEs256Jws(jws: string): string {
  const signature = signatureOf(jws);
  if (!signature) throw new Error('not a compact JWS with an ES256 signature');
  const s = toBigInt(signature.subarray(SCALAR_BYTES));
  if (s <= HALF_ORDER) return jws;
  const low = new Uint8Array(SCALAR_BYTES * 2);
  low.set(signature.subarray(0, SCALAR_BYTES));
  low.set(toBytes(P256_ORDER - s), SCALAR_BYTES);
  return `${jws.slice(0, jws.lastIndexOf('.'))}.${base64url.encode(low)}`;
}
