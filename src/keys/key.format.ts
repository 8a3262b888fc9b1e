// The API key format, after GitHub's: a prefix that names the mode, 30 random base62
// characters (≈178 bits) and a 6-character base62 CRC32 checksum of everything before it.
// A secret scanner recognises a leaked key offline, and a mistyped key is refused before any
// database lookup. The checksum is not a secret; the random part is.
import { crc32 } from 'node:zlib';
import { base62Encode, randomBase62 } from '../platform/random.js';
import type { AccountMode } from '../store/schema.js';

const RANDOM_LENGTH = 30;
const CHECKSUM_LENGTH = 6;
const PATTERN = /^coffer_(test|live)_([0-9A-Za-z]{30})([0-9A-Za-z]{6})$/;

export const keyPrefix = (mode: AccountMode): string => `coffer_${mode}_`;

function checksum(body: string): string {
  return base62Encode(crc32(body), CHECKSUM_LENGTH);
}

export function generateKeyToken(mode: AccountMode): string {
  const body = keyPrefix(mode) + randomBase62(RANDOM_LENGTH);
  return body + checksum(body);
}

export type ParsedKey = { ok: true; mode: AccountMode } | { ok: false; reason: 'MALFORMED' | 'BAD_CHECKSUM' };

export function parseKeyToken(token: string): ParsedKey {
  const match = PATTERN.exec(token);
  if (!match) return { ok: false, reason: 'MALFORMED' };
  const body = token.slice(0, token.length - CHECKSUM_LENGTH);
  if (checksum(body) !== match[3]) return { ok: false, reason: 'BAD_CHECKSUM' };
  return { ok: true, mode: match[1] as AccountMode };
}

/** What is kept for display: the prefix and the last four characters. */
export function displayParts(token: string): { start: string; end: string } {
  const mode = token.startsWith('coffer_live_') ? 'live' : 'test';
  return { start: keyPrefix(mode), end: token.slice(-4) };
}

export { RANDOM_LENGTH, CHECKSUM_LENGTH };
