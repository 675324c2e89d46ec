import { mkdir, readdir, readFile, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  calculateJwkThumbprint,
  exportJWK,
  generateKeyPair,
  importJWK,
  type CryptoKey,
  type JWK,
} from 'jose';
import { z } from 'zod';
import type { Clock } from '../domain/ports';

/** The one signing algorithm: verifiers pin it too. */
export const SIGNING_ALG = 'ES256';

const keyFileSchema = z.object({
  kid: z.string().min(1),
  createdAt: z.iso.datetime({ offset: true }),
  privateJwk: z.object({
    kty: z.literal('EC'),
    crv: z.literal('P-256'),
    x: z.string(),
    y: z.string(),
    d: z.string(),
  }),
});
type KeyFile = z.infer<typeof keyFileSchema>;

export interface SigningKey {
  kid: string;
  createdAt: Date;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

export interface KeyRingOptions {
  dir: string;
  clock: Clock;
  /** A new key is made when the newest is older than this. */
  rotateAfterSeconds: number;
  /** How long a superseded key must stay published: the longest-lived token it signed (plus skew). */
  retainAfterSupersededSeconds: number;
  /** When false (a read-only mounted secret), keys are only read: rotation is done by whoever writes the secret. */
  writable?: boolean;
}

const KEY_FILE_SUFFIX = '.es256.json';

/**
 * ES256 signing keys in a directory (a Kubernetes Secret mounted as files, or
 * .stack/secrets/auth locally), one JSON file per key. The newest key signs;
 * older keys stay in the JWKS until every token they signed has expired, so a
 * rotation logs nobody out. When the directory holds no key, one is generated
 * (never in the repository).
 */
export class SigningKeyRing {
  private keys: SigningKey[] = [];

  constructor(private readonly options: KeyRingOptions) {}

  /** Reads the directory, generating or rotating a key when needed and allowed, and drops expired ones. */
  async load(): Promise<void> {
    const writable = this.options.writable ?? true;
    let files = await this.readKeyFiles();
    const now = this.options.clock.now().getTime();
    const newest = files.at(-1);
    if (
      writable &&
      (!newest || now - Date.parse(newest.createdAt) >= this.options.rotateAfterSeconds * 1000)
    ) {
      await this.generate();
      files = await this.readKeyFiles();
    }
    if (files.length === 0) throw new Error(`no signing key in ${this.options.dir}`);
    const live: KeyFile[] = [];
    files.forEach((file, i) => {
      const successor = files[i + 1];
      const retired =
        successor !== undefined &&
        now - Date.parse(successor.createdAt) >= this.options.retainAfterSupersededSeconds * 1000;
      if (!retired) live.push(file);
      else if (writable) void unlink(this.fileOf(file.kid)).catch(() => undefined);
    });
    this.keys = await Promise.all(live.map((file) => this.toSigningKey(file)));
  }

  /** The key that signs new tokens: the newest. */
  active(): SigningKey {
    const key = this.keys.at(-1);
    if (!key) throw new Error('signing key ring is not loaded');
    return key;
  }

  /** The public keys verifiers should trust now. */
  jwks(): { keys: JWK[] } {
    return { keys: this.keys.map((k) => k.publicJwk) };
  }

  private async generate(): Promise<void> {
    await mkdir(this.options.dir, { recursive: true, mode: 0o700 });
    const { privateKey } = await generateKeyPair(SIGNING_ALG, { extractable: true });
    const jwk = await exportJWK(privateKey);
    const kid = await calculateJwkThumbprint({ kty: 'EC', crv: jwk.crv, x: jwk.x, y: jwk.y });
    const file: KeyFile = keyFileSchema.parse({
      kid,
      createdAt: this.options.clock.now().toISOString(),
      privateJwk: jwk,
    });
    // 'wx': never overwrite; mode 0600: the private key is readable by this user only.
    await writeFile(this.fileOf(kid), JSON.stringify(file), { flag: 'wx', mode: 0o600 });
  }

  private async readKeyFiles(): Promise<KeyFile[]> {
    let names: string[];
    try {
      names = await readdir(this.options.dir);
    } catch (error) {
      if ((error as { code?: unknown }).code === 'ENOENT') return [];
      throw error;
    }
    const files = await Promise.all(
      names
        .filter((n) => n.endsWith(KEY_FILE_SUFFIX))
        .map(async (n) =>
          keyFileSchema.parse(JSON.parse(await readFile(path.join(this.options.dir, n), 'utf8'))),
        ),
    );
    return files.sort(
      (a, b) => Date.parse(a.createdAt) - Date.parse(b.createdAt) || a.kid.localeCompare(b.kid),
    );
  }

  private async toSigningKey(file: KeyFile): Promise<SigningKey> {
    const imported = await importJWK({ ...file.privateJwk, alg: SIGNING_ALG }, SIGNING_ALG);
    if (imported instanceof Uint8Array) throw new Error(`key ${file.kid} is not an EC key`);
    const privateKey: CryptoKey = imported;
    const { kty, crv, x, y } = file.privateJwk;
    return {
      kid: file.kid,
      createdAt: new Date(file.createdAt),
      privateKey,
      publicJwk: { kty, crv, x, y, kid: file.kid, alg: SIGNING_ALG, use: 'sig' },
    };
  }

  private fileOf(kid: string): string {
    return path.join(this.options.dir, `${kid}${KEY_FILE_SUFFIX}`);
  }
}
