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

// Time-ordered ids: 10 characters of milliseconds since the epoch, then 16 of a counter that
// starts at a random 80-bit value each millisecond and, within one, steps up by a random amount,
// all in BASE32_LOWER (whose characters sort as their values do). For rows written at thousands
// a second into a unique index: each new id sorts after the last, so PostgreSQL inserts it into
// the index's rightmost leaf without descending the tree, where a random id lands anywhere in an
// ever bigger index (the audit log's entry_id index cost the backend ~2.7 µs an entry that way).
// Such an id tells when it was made, to the millisecond; use it only where that is no secret.
const FORTY_BITS = 2 ** 40;
let lastMs = -1;
let counterHigh = 0;
let counterLow = 0;

function randomUint(bytes: number): number {
  const start = take(bytes);
  return pool.readUIntBE(start, bytes);
}

function base32(value: number, width: number): string {
  let n = value;
  let out = '';
  for (let i = 0; i < width; i++) {
    out = BASE32_LOWER[n % 32]! + out;
    n = Math.floor(n / 32);
  }
  return out;
}

/** An id of the form `prefix_` + 26 base-32 characters that sorts after every earlier one this thread made (also when the clock steps back). */
export function sortableId(prefix: IdPrefix, nowMs: number = Date.now()): string {
  if (nowMs > lastMs) {
    lastMs = nowMs;
    counterHigh = randomUint(5);
    counterLow = randomUint(5);
  } else {
    counterLow += 1 + randomUint(4);
    if (counterLow >= FORTY_BITS) {
      counterLow -= FORTY_BITS;
      counterHigh += 1;
      // 80 bits used up within one millisecond (never in practice): borrow the next one.
      if (counterHigh >= FORTY_BITS) return sortableId(prefix, lastMs + 1);
    }
  }
  return `${prefix}_${base32(lastMs, 10)}${base32(counterHigh, 8)}${base32(counterLow, 8)}`;
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
