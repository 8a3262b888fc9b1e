// Signs a delivery in both schemes Coffer promises. The body is signed as the exact bytes sent.
//  - Pay-Signature (GOV.UK Pay): lower-case hex HMAC-SHA256 of the raw body, keyed with the
//    signing secret's text as UTF-8 (the whole `whsec_…` string, as GOV.UK Pay keys with its
//    whole secret).
//  - Standard Webhooks: webhook-signature is `v1,<base64 HMAC-SHA256>` over `id.timestamp.body`,
//    keyed with the base64-decoded bytes after `whsec_`; one value per live secret, space
//    separated, so a receiver holding either secret verifies during a rotation.
import { createHmac, randomBytes } from 'node:crypto';

export const SECRET_PREFIX = 'whsec_';
/** 32 bytes: inside Standard Webhooks' 24–64 byte range. */
export const SECRET_BYTES = 32;

export function generateSigningSecret(): string {
  return SECRET_PREFIX + randomBytes(SECRET_BYTES).toString('base64');
}

/** The key bytes Standard Webhooks signs with: the base64 after the prefix. */
export function standardWebhooksKey(secret: string): Buffer {
  if (!secret.startsWith(SECRET_PREFIX)) throw new TypeError('a webhook secret starts with whsec_');
  return Buffer.from(secret.slice(SECRET_PREFIX.length), 'base64');
}

export function paySignature(secret: string, body: string): string {
  return createHmac('sha256', Buffer.from(secret, 'utf8')).update(body, 'utf8').digest('hex');
}

export function standardSignature(secret: string, messageId: string, timestampSeconds: number, body: string): string {
  const mac = createHmac('sha256', standardWebhooksKey(secret)).update(`${messageId}.${timestampSeconds}.${body}`, 'utf8');
  return `v1,${mac.digest('base64')}`;
}

export interface SignedHeaders {
  'content-type': string;
  'pay-signature': string;
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

/**
 * The headers of one attempt. `secrets` are the endpoint's live secrets, oldest first: the
 * Standard Webhooks header carries one signature per secret; Pay-Signature has room for one
 * only, and uses the oldest, which every receiver not yet switched over still holds.
 */
export function signDelivery(secrets: readonly string[], messageId: string, at: Date, body: string): SignedHeaders {
  const oldest = secrets[0];
  if (oldest === undefined) throw new TypeError('an endpoint always has a secret');
  if (messageId.includes('.')) throw new TypeError('a message id must not contain "."');
  const timestamp = Math.floor(at.getTime() / 1000);
  return {
    'content-type': 'application/json',
    'pay-signature': paySignature(oldest, body),
    'webhook-id': messageId,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': secrets.map((s) => standardSignature(s, messageId, timestamp, body)).join(' '),
  };
}
