// Authenticates every request that is not explicitly public, before its body is even parsed.
// Every failure of the key itself answers one generic 401; the real reason goes to the log.
// A valid key without the route's scope gets 403, as does a key used outside its IP ranges.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AppContext } from '../platform/context.js';
import { cofferError } from '../platform/errors.js';
import { verifyKey } from '../keys/key.verifier.js';
import { grants } from '../keys/scopes.js';
import { metricsFor } from '../metrics/metrics.js';
import { networkAllows } from '../network/network.service.js';
import { observeKeyUse, observeRefusedKey } from '../alerts/detectors/keys.js';

const BEARER = /^Bearer ([^\s]+)$/;

export function registerAuthentication(app: FastifyInstance, ctx: AppContext): void {
  app.decorateRequest('principal', undefined);
  const verifications = metricsFor(ctx).keyVerifications;
  app.addHook('onRequest', async (request) => {
    if (request.is404) return;
    const auth = request.routeOptions.config.auth;
    // eslint-disable-next-line security/detect-possible-timing-attacks -- compares route config, not a secret
    if (auth === 'public') return;

    const token = bearerToken(request);
    // eslint-disable-next-line security/detect-possible-timing-attacks -- presence check; the key is compared by hash lookup
    if (token === undefined) {
      request.log.info({ auth: 'MISSING' }, 'request refused: no API key');
      verifications.inc({ outcome: 'MISSING' });
      request.authOutcome = { code: 'MISSING' };
      throw cofferError('C0401');
    }
    const outcome = await verifyKey(ctx, token, request.ip);
    if (!outcome.valid) {
      verifications.inc({ outcome: outcome.code });
      const refused = 'key' in outcome ? outcome.key : 'keyId' in outcome ? outcome : undefined;
      request.log.info({ auth: outcome.code, keyId: refused?.keyId }, 'request refused: API key');
      request.authOutcome = { code: outcome.code, keyId: refused?.keyId, serviceId: refused?.serviceId, accountId: refused?.accountId };
      if (outcome.code === 'REVOKED' || outcome.code === 'EXPIRED') await observeRefusedKey(ctx, outcome, request.ip);
      throw outcome.code === 'IP_NOT_ALLOWED' ? cofferError('C0404') : cofferError('C0401');
    }
    // The account's own API allow-list, on top of the key's ranges (issue 7).
    if (!(await networkAllows(ctx, outcome.key.accountId, 'api', request.ip))) {
      request.log.info({ auth: 'ACCOUNT_IP_NOT_ALLOWED', keyId: outcome.key.keyId }, 'request refused: network');
      verifications.inc({ outcome: 'ACCOUNT_IP_NOT_ALLOWED' });
      request.authOutcome = { code: 'ACCOUNT_IP_NOT_ALLOWED', keyId: outcome.key.keyId, serviceId: outcome.key.serviceId, accountId: outcome.key.accountId };
      throw cofferError('C0404');
    }
    verifications.inc({ outcome: 'VALID' });
    await observeKeyUse(ctx, outcome.key, request.ip);
    request.principal = outcome.key;
    if (typeof auth === 'object' && !grants(outcome.key.scopes, auth.scope)) {
      request.log.info({ auth: 'MISSING_SCOPE', keyId: outcome.key.keyId, scope: auth.scope }, 'request refused: scope');
      request.authOutcome = { code: 'MISSING_SCOPE', keyId: outcome.key.keyId };
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
