// Unguessable identifiers and secrets. Every byte comes from the CSPRNG; rejection sampling
// keeps the alphabets unbiased.
//
// The bytes are drawn from a pool that one call to the CSPRNG fills 4 KiB at a time, as Node
// itself does for randomUUID and randomInt: on this machine's Node and OpenSSL each randomBytes
// call costs ~6 µs whatever its size (the provider's locking, not the bytes), and a payment
// create made several (its id, its payer token, an IV, audit and event ids), while randomInt
// cost ~0.3 µs a character. Each byte is handed out once; the pool is never reused unrefilled.
import { randomBytes, randomFillSync } from 'node:crypto';

const POOL_BYTES = 4096;
const pool = Buffer.allocUnsafe(POOL_BYTES);
let poolOffset = POOL_BYTES;

/** Where the next `length` unused bytes of the pool start, refilling it first if it has fewer. */
function take(length: number): number {
  if (poolOffset + length > POOL_BYTES) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const start = poolOffset;
  poolOffset += length;
  return start;
}

/** `length` bytes from the CSPRNG, as randomBytes, copied out of the pool. */
export function secureRandomBytes(length: number): Buffer {
  if (length > POOL_BYTES / 4) return randomBytes(length);
  const start = take(length);
  return Buffer.from(pool.subarray(start, start + length));
}

const randomByte = (): number => pool[take(1)]!;

export const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const BASE32_LOWER = '0123456789abcdefghijklmnopqrstuv';

export function randomString(length: number, alphabet: string): string {
  const size = alphabet.length;
  if (size < 2 || size > 256) throw new RangeError('an alphabet has 2 to 256 characters');
  // Bytes at or above the last whole multiple of the alphabet's size are rejected, so every
  // character is equally likely (for base 32 none is, for base 62 one byte in 32).
  const accept = 256 - (256 % size);
  let out = '';
  while (out.length < length) {
    const byte = randomByte();
    if (byte < accept) out += alphabet[byte % size];
  }
  return out;
}

export const randomBase62 = (length: number): string => randomString(length, BASE62);

/** GOV.UK Pay's id format: 26 lower-case base-32 characters (130 random bits). */
export function govukStyleId(): string {
  return randomString(26, BASE32_LOWER);
}

/** Ids for Coffer's own objects: a kind prefix and 26 base-32 characters, e.g. `svc_…`. */
export function prefixedId(prefix: IdPrefix): string {
  return `${prefix}_${govukStyleId()}`;
}

export type IdPrefix = 'svc' | 'acct' | 'key' | 'req' | 'evt' | WebhookIdPrefix | ConsoleIdPrefix | AuditIdPrefix;
/** The console's objects: users, invites, sessions, passkeys, devices, identity providers, sign-in flows, access reviews. */
export type ConsoleIdPrefix = 'usr' | 'inv' | 'ses' | 'pkey' | 'dev' | 'idp' | 'flow' | 'arev';
/** Audit entries, network allow-list ranges, security alerts. */
export type AuditIdPrefix = 'aud' | 'net' | 'alr' | 'alm';
/** Webhook endpoints, their signing secrets, delivery attempts. */
export type WebhookIdPrefix = 'wh' | 'whs' | 'wha';

export function randomToken(bytes = 32): string {
  return secureRandomBytes(bytes).toString('base64url');
}

/** Encodes a non-negative integer in base62, left-padded to `width`. */
export function base62Encode(value: number, width: number): string {
  let n = value;
  let out = '';
  do {
    out = BASE62[n % 62] + out;
    n = Math.floor(n / 62);
  } while (n > 0);
  return out.padStart(width, '0');
}
