// CSRF tokens for every form: an HMAC of the session's hash under a key derived from the master
// key for this purpose only. Stateless (nothing to store or expire beyond the session itself),
// bound to one session, and compared in constant time. SameSite=Strict cookies are the first
// line; the token is the second, and an Origin header naming another site is refused outright.
import { createHmac } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { AppContext } from '../platform/context.js';
import { deriveKey } from '../platform/encryption.js';
import { constantTimeEqual } from '../platform/hashing.js';
import type { WebSession } from './session.js';

export const CSRF_FIELD = 'csrf_token';

const keys = new WeakMap<Buffer, Buffer>();

function csrfKey(ctx: AppContext): Buffer {
  let key = keys.get(ctx.masterKey.key);
  if (!key) {
    key = deriveKey(ctx.masterKey.key, 'web-csrf');
    keys.set(ctx.masterKey.key, key);
  }
  return key;
}

export function csrfTokenFor(ctx: AppContext, session: WebSession): string {
  return createHmac('sha256', csrfKey(ctx)).update(`${session.purpose}:${session.idHash}`).digest('base64url');
}

export function csrfTokenMatches(ctx: AppContext, session: WebSession, presented: unknown): boolean {
  return typeof presented === 'string' && constantTimeEqual(presented, csrfTokenFor(ctx, session));
}

/**
 * False when the browser says the form came from another origin. `null` (sent under
 * Referrer-Policy: no-referrer and by privacy settings) and a missing header fall to the token.
 */
export function originAllowed(request: FastifyRequest, baseUrl: string): boolean {
  const origin = request.headers.origin;
  if (origin === undefined || origin === 'null') return true;
  const site = request.headers['sec-fetch-site'];
  if (site === 'cross-site' || site === 'same-site') return false;
  try {
    return new URL(origin).origin === new URL(baseUrl).origin || origin === `${request.protocol}://${request.host}`;
  } catch {
    return false;
  }
}
