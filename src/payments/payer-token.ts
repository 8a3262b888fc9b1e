// The single-use token in next_url: 192 random bits, handed out once and stored only as its
// SHA-256, so the table alone cannot let anyone into a payment.
import type { Kysely } from 'kysely';
import { sha256Hex } from '../platform/hashing.js';
import { randomToken } from '../platform/random.js';
import type { Database } from '../store/schema.js';
import { insertToken } from './payment.repo.js';

const TOKEN_PATTERN = /^[A-Za-z0-9_-]{32}$/;

/** A fresh token and the hash that is stored for it. */
export function newPayerToken(): { token: string; hash: string } {
  const token = randomToken(24);
  return { token, hash: sha256Hex(token) };
}

export async function mintPayerToken(db: Kysely<Database>, payment: { id: string; account_id: string }, at: Date): Promise<string> {
  const token = randomToken(24);
  await insertToken(db, { tokenHash: sha256Hex(token), paymentId: payment.id, accountId: payment.account_id, at });
  return token;
}

/** The stored form of a token, or undefined when the text cannot be one (no lookup needed). */
export function payerTokenHash(token: string): string | undefined {
  return TOKEN_PATTERN.test(token) ? sha256Hex(token) : undefined;
}
