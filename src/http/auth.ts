// Authenticates every request that is not explicitly public, before its body is even parsed.
// Every failure of the key itself answers one generic 401; the real reason goes to the log.
// A valid key without the route's scope gets 403, as does a key used outside its IP ranges.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AppContext } from '../platform/context.js';
import { cofferError } from '../platform/errors.js';
import { verifyKey, type KeyVerification, type VerifiedKey } from '../keys/key.verifier.js';
import type { RouteAuth } from './types.js';
import { grants } from '../keys/scopes.js';
import { metricsFor } from '../metrics/metrics.js';
import { networkAllows } from '../network/network.service.js';
import { observeKeyUse, observeRefusedKey } from '../alerts/detectors/keys.js';

const BEARER = /^Bearer ([^\s]+)$/;

export function registerAuthentication(app: FastifyInstance, ctx: AppContext): void {
  app.decorateRequest('principal', undefined);
  const verifications = metricsFor(ctx).keyVerifications;

  // A callback hook whose every step answers at once when it can (a cached key, a cached
  // allow-list, a network this node has seen: nearly every request), so an authenticated call
  // costs no promise and no microtask; only a step that must read the database waits.
  app.addHook('onRequest', (request, _reply, done) => {
    let waiting: Promise<void> | undefined;
    try {
      waiting = authenticate(request);
    } catch (err) {
      done(err as Error);
      return;
    }
    if (waiting) waiting.then(() => done(), done);
    else done();
  });

  function authenticate(request: FastifyRequest): Promise<void> | undefined {
    if (request.is404) return undefined;
    const auth = request.routeOptions.config.auth;
    // eslint-disable-next-line security/detect-possible-timing-attacks -- compares route config, not a secret
    if (auth === 'public') return undefined;

    const token = bearerToken(request);
    // eslint-disable-next-line security/detect-possible-timing-attacks -- presence check; the key is compared by hash lookup
    if (token === undefined) {
      request.log.info({ auth: 'MISSING' }, 'request refused: no API key');
      verifications.inc({ outcome: 'MISSING' });
      request.authOutcome = { code: 'MISSING' };
      throw cofferError('C0401');
    }
    const outcome = verifyKey(ctx, token, request.ip);
    return outcome instanceof Promise ? outcome.then((verified) => afterVerification(request, auth, verified)) : afterVerification(request, auth, outcome);
  }

  function afterVerification(request: FastifyRequest, auth: RouteAuth | undefined, outcome: KeyVerification): Promise<void> | undefined {
    if (!outcome.valid) return refuse(request, outcome);
    // The account's own API allow-list, on top of the key's ranges (issue 7).
    const allowed = networkAllows(ctx, outcome.key.accountId, 'api', request.ip);
    return allowed instanceof Promise ? allowed.then((yes) => admit(request, auth, outcome.key, yes)) : admit(request, auth, outcome.key, allowed);
  }

  async function refuse(request: FastifyRequest, outcome: Exclude<KeyVerification, { valid: true }>): Promise<void> {
    verifications.inc({ outcome: outcome.code });
    const refused = 'key' in outcome ? outcome.key : 'keyId' in outcome ? outcome : undefined;
    request.log.info({ auth: outcome.code, keyId: refused?.keyId }, 'request refused: API key');
    request.authOutcome = { code: outcome.code, keyId: refused?.keyId, serviceId: refused?.serviceId, accountId: refused?.accountId };
    if (outcome.code === 'REVOKED' || outcome.code === 'EXPIRED') await observeRefusedKey(ctx, outcome, request.ip);
    throw outcome.code === 'IP_NOT_ALLOWED' ? cofferError('C0404') : cofferError('C0401');
  }

  function admit(request: FastifyRequest, auth: RouteAuth | undefined, key: VerifiedKey, allowed: boolean): Promise<void> | undefined {
    if (!allowed) {
      request.log.info({ auth: 'ACCOUNT_IP_NOT_ALLOWED', keyId: key.keyId }, 'request refused: network');
      verifications.inc({ outcome: 'ACCOUNT_IP_NOT_ALLOWED' });
      request.authOutcome = { code: 'ACCOUNT_IP_NOT_ALLOWED', keyId: key.keyId, serviceId: key.serviceId, accountId: key.accountId };
      throw cofferError('C0404');
    }
    verifications.inc({ outcome: 'VALID' });
    const observing = observeKeyUse(ctx, key, request.ip);
    return observing ? observing.then(() => grant(request, auth, key)) : grant(request, auth, key);
  }

  function grant(request: FastifyRequest, auth: RouteAuth | undefined, key: VerifiedKey): undefined {
    request.principal = key;
    if (typeof auth === 'object' && !grants(key.scopes, auth.scope)) {
      request.log.info({ auth: 'MISSING_SCOPE', keyId: key.keyId, scope: auth.scope }, 'request refused: scope');
      request.authOutcome = { code: 'MISSING_SCOPE', keyId: key.keyId };
      throw cofferError('C0403', [auth.scope]);
    }
    return undefined;
  }
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
