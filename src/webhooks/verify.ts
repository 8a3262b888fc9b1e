// Verifying a Coffer webhook on the receiving side, in either scheme. Self-contained (only
// node:crypto), so a receiver can import it from the coffer package or copy the file.
//
//   const result = verifyStandardWebhook(rawBody, request.headers, [process.env.COFFER_WEBHOOK_SECRET]);
//   if (!result.valid) return reply.code(400).send(result.code);
//
// Always verify the raw body as received, never re-serialised JSON. Then de-duplicate by
// webhook-id (delivery is at least once) and tolerate events arriving out of order.
import { createHmac, timingSafeEqual } from 'node:crypto';

const PREFIX = 'whsec_';
export const DEFAULT_TOLERANCE_SECONDS = 300;

export type VerificationFailure =
  | 'MISSING_HEADERS'
  | 'INVALID_TIMESTAMP'
  | 'TIMESTAMP_TOO_OLD'
  | 'TIMESTAMP_TOO_NEW'
  | 'NO_MATCHING_SIGNATURE';

export type VerificationResult = { valid: true; messageId: string; timestamp: Date } | { valid: false; code: VerificationFailure };

type HeaderBag = Record<string, string | string[] | undefined> | Headers;

function header(headers: HeaderBag, name: string): string | undefined {
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
  const bag = headers as Record<string, string | string[] | undefined>;
  const key = Object.keys(bag).find((k) => k.toLowerCase() === name);
  const value = key === undefined ? undefined : bag[key];
  return Array.isArray(value) ? value[0] : value;
}

const bytes = (body: string | Uint8Array): Buffer => (typeof body === 'string' ? Buffer.from(body, 'utf8') : Buffer.from(body));

function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  return left.length === right.length && timingSafeEqual(left, right);
}

/**
 * GOV.UK Pay's scheme: Pay-Signature is the lower-case hex HMAC-SHA256 of the raw body, keyed
 * with the secret's text. Pass both secrets during a rotation.
 */
export function verifyPaySignature(rawBody: string | Uint8Array, signature: string | undefined, secrets: readonly string[]): boolean {
  if (!signature) return false;
  const body = bytes(rawBody);
  let matched = false;
  for (const secret of secrets) {
    const expected = createHmac('sha256', Buffer.from(secret, 'utf8')).update(body).digest('hex');
    // Every secret is tried, so the time taken does not say which one matched.
    if (safeEqual(expected, signature.trim().toLowerCase())) matched = true;
  }
  return matched;
}

/**
 * The Standard Webhooks scheme (the algorithm of its published libraries): HMAC-SHA256 over
 * `webhook-id.webhook-timestamp.body` with the base64 key after `whsec_`; the timestamp must be
 * within the tolerance of now, which is what stops a captured request being replayed later.
 */
export function verifyStandardWebhook(
  rawBody: string | Uint8Array,
  headers: HeaderBag,
  secrets: readonly string[],
  options: { toleranceSeconds?: number; now?: Date } = {},
): VerificationResult {
  const id = header(headers, 'webhook-id');
  const timestampText = header(headers, 'webhook-timestamp');
  const signatures = header(headers, 'webhook-signature');
  if (!id || !timestampText || !signatures) return { valid: false, code: 'MISSING_HEADERS' };
  if (!/^\d{1,12}$/.test(timestampText)) return { valid: false, code: 'INVALID_TIMESTAMP' };
  const timestamp = Number(timestampText);
  const now = Math.floor((options.now ?? new Date()).getTime() / 1000);
  const tolerance = options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  if (now - timestamp > tolerance) return { valid: false, code: 'TIMESTAMP_TOO_OLD' };
  if (timestamp - now > tolerance) return { valid: false, code: 'TIMESTAMP_TOO_NEW' };

  const signed = Buffer.concat([Buffer.from(`${id}.${timestampText}.`, 'utf8'), bytes(rawBody)]);
  const offered = signatures
    .split(' ')
    .map((s) => s.split(','))
    .filter((parts): parts is [string, string] => parts.length === 2 && parts[0] === 'v1')
    .map(([, signature]) => signature);
  let matched = false;
  for (const secret of secrets) {
    const key = Buffer.from(secret.startsWith(PREFIX) ? secret.slice(PREFIX.length) : secret, 'base64');
    const expected = createHmac('sha256', key).update(signed).digest('base64');
    for (const signature of offered) if (safeEqual(expected, signature)) matched = true;
  }
  return matched ? { valid: true, messageId: id, timestamp: new Date(timestamp * 1000) } : { valid: false, code: 'NO_MATCHING_SIGNATURE' };
}
