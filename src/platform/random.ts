// Unguessable identifiers and secrets. Every byte comes from the CSPRNG; rejection sampling
// keeps the alphabets unbiased.
import { randomBytes, randomInt } from 'node:crypto';

export const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const BASE32_LOWER = '0123456789abcdefghijklmnopqrstuv';

export function randomString(length: number, alphabet: string): string {
  let out = '';
  for (let i = 0; i < length; i++) out += alphabet[randomInt(alphabet.length)];
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
  return randomBytes(bytes).toString('base64url');
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
