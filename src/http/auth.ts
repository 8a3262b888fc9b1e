// Authenticates every request that is not explicitly public, before its body is even parsed.
// Every failure of the key itself answers one generic 401; the real reason goes to the log.
// A valid key without the route's scope gets 403, as does a key used outside its IP ranges.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AppContext } from '../platform/context.js';
import { cofferError } from '../platform/errors.js';
import { verifyKey } from '../keys/key.verifier.js';
import { grants } from '../keys/scopes.js';

const BEARER = /^Bearer ([^\s]+)$/;

export function registerAuthentication(app: FastifyInstance, ctx: AppContext): void {
  app.decorateRequest('principal', undefined);
  app.addHook('onRequest', async (request) => {
    if (request.is404) return;
    const auth = request.routeOptions.config.auth;
    // eslint-disable-next-line security/detect-possible-timing-attacks -- compares route config, not a secret
    if (auth === 'public') return;

    const token = bearerToken(request);
    // eslint-disable-next-line security/detect-possible-timing-attacks -- presence check; the key is compared by hash lookup
    if (token === undefined) {
      request.log.info({ auth: 'MISSING' }, 'request refused: no API key');
      throw cofferError('C0401');
    }
    const outcome = await verifyKey(ctx, token, request.ip);
    if (!outcome.valid) {
      request.log.info({ auth: outcome.code, keyId: 'key' in outcome ? outcome.key.keyId : undefined }, 'request refused: API key');
      throw outcome.code === 'IP_NOT_ALLOWED' ? cofferError('C0404') : cofferError('C0401');
    }
    request.principal = outcome.key;
    if (typeof auth === 'object' && !grants(outcome.key.scopes, auth.scope)) {
      request.log.info({ auth: 'MISSING_SCOPE', keyId: outcome.key.keyId, scope: auth.scope }, 'request refused: scope');
      throw cofferError('C0403', [auth.scope]);
    }
  });
}

function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (typeof header !== 'string') return undefined;
  return BEARER.exec(header.trim())?.[1];
}

/** The verified key of an authenticated route; a route declared public has none. */
export function principalOf(request: FastifyRequest) {
  if (!request.principal) throw new TypeError('route reached without a verified key');
  return request.principal;
}
