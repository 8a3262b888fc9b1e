// Personal data on a payment (email, cardholder name, billing address, prefilled details) is
// sealed with AES-256-GCM under a key derived from the master key, with the payment id and
// column as associated data: a ciphertext copied to another row or column fails to open.
// Search by email or cardholder name goes through a keyed blind index (HMAC-SHA256 of the
// trimmed, lower-cased value): exact match, case-insensitive, and useless without the key.
import { createHmac } from 'node:crypto';
import { deriveKey, open, seal } from '../platform/encryption.js';

/** Recorded with every row, so a later rotation knows which key sealed it. */
export const PERSONAL_DATA_KEY_VERSION = 1;

interface PaymentKeys {
  seal: Buffer;
  index: Buffer;
}

const keysByMaster = new WeakMap<Buffer, PaymentKeys>();

function keysFor(masterKey: Buffer): PaymentKeys {
  let keys = keysByMaster.get(masterKey);
  if (!keys) {
    keys = {
      seal: deriveKey(masterKey, `payments:personal-data:v${PERSONAL_DATA_KEY_VERSION}`),
      index: deriveKey(masterKey, `payments:blind-index:v${PERSONAL_DATA_KEY_VERSION}`),
    };
    keysByMaster.set(masterKey, keys);
  }
  return keys;
}

export type PersonalColumn = 'email' | 'cardholder_name' | 'billing_address' | 'prefilled';

const aad = (paymentId: string, column: PersonalColumn): string => `payments:${paymentId}:${column}`;

export function sealPersonal(masterKey: Buffer, paymentId: string, column: PersonalColumn, value: string | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  return seal(keysFor(masterKey).seal, value, aad(paymentId, column));
}

export function openPersonal(masterKey: Buffer, paymentId: string, column: PersonalColumn, sealed: string | null): string | null {
  if (sealed === null) return null;
  return open(keysFor(masterKey).seal, sealed, aad(paymentId, column));
}

export function blindIndex(masterKey: Buffer, column: 'email' | 'cardholder_name', value: string | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  return createHmac('sha256', keysFor(masterKey).index).update(`${column}:${value.trim().toLowerCase()}`, 'utf8').digest('hex');
}
