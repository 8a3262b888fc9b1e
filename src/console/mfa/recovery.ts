// Recovery codes: ten single-use codes, shown once when MFA is first enrolled (or when the user
// asks for a new set), stored as SHA-256. Each carries 120 random bits, above ASVS's 112-bit
// line for a plain hash, so no per-code KDF is needed and a lookup is one indexed query.
import { sha256Hex } from '../../platform/hashing.js';
import { randomString } from '../../platform/random.js';

// Crockford's base-32 without i, l, o, u, in lower case: nothing to misread.
const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';
export const RECOVERY_CODE_COUNT = 10;

export function newRecoveryCodes(): string[] {
  return Array.from({ length: RECOVERY_CODE_COUNT }, () => randomString(24, ALPHABET).replace(/(.{4})(?!$)/g, '$1-'));
}

/** What the user typed, with spaces, dashes, case and look-alike letters forgiven. */
export function normaliseRecoveryCode(input: string): string {
  return input.toLowerCase().replace(/[^0-9a-z]/g, '').replace(/o/g, '0').replace(/[il]/g, '1');
}

export function hashRecoveryCode(input: string): string {
  return sha256Hex(`coffer-recovery:${normaliseRecoveryCode(input)}`);
}
