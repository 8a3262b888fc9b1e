// Sign-in through an organisation's OpenID Connect provider, configured per service (issuer,
// client id and secret, allowed email domains), with openid-client as the relying party:
// authorization code flow with PKCE (S256), state and nonce, ID token checked by the library.
//
// The provider proves who the person is; Coffer's own second factor is still required (MFA is
// mandatory and the provider's MFA is not something we can verify), so a successful callback
// gives a session at the 'mfa' stage, or 'enrol' for someone with no factor yet.
// The flow is bound to the browser that started it: the state travels in a __Host- cookie as
// well as in the URL, and the flow record is found by the cookie's state (hashed) and spent once.
import { recordAudit } from '../../audit/audit.service.js';
import * as oidc from 'openid-client';
import type { AppContext } from '../../platform/context.js';
import { deriveKey, open, seal } from '../../platform/encryption.js';
import { conflict, notFound, unprocessable } from '../../platform/errors.js';
import { sha256Hex } from '../../platform/hashing.js';
import { prefixedId } from '../../platform/random.js';
import { requireService } from '../../services/service.service.js';
import type { OidcProviderRow } from '../console.tables.js';
import { hasSecondFactor, mfaMethodsOf } from '../mfa/factor.service.js';
import { isAssignableRole } from '../identity/roles.js';
import * as signinRepo from '../identity/signin.repo.js';
import type { ClientInfo } from '../identity/signin.service.js';
import * as users from '../identity/user.repo.js';
import { newUserRow } from '../identity/user.service.js';
import { createSession, type ConsoleSession } from '../sessions/session.service.js';
import { LIMITS } from '../settings.js';

export const OIDC_STATE_COOKIE = '__Host-coffer_oidc';
const DISCOVERY_TTL_MS = 60 * 60_000;
const LABEL = /^[a-z0-9-]{1,63}$/;

function isDomain(text: string): boolean {
  const labels = text.split('.');
  return text.length <= 253 && labels.length >= 2 && labels.every((l) => LABEL.test(l) && !l.startsWith('-') && !l.endsWith('-')) && /^[a-z]{2,63}$/.test(labels.at(-1) ?? '');
}

function secretKey(ctx: AppContext): Buffer {
  return deriveKey(ctx.masterKey.key, 'oidc-client-secrets');
}

const isLoopback = (url: URL): boolean => ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);

export function callbackUrl(ctx: AppContext): string {
  return `${ctx.baseUrl}/console/sign-in/oidc/callback`;
}

export interface OidcProviderInput {
  serviceId: string;
  name: string;
  issuer: string;
  clientId: string;
  clientSecret: string;
  allowedDomains: string[];
  /** Role given to someone from an allowed domain who has no account or no membership yet; null = invited people only. */
  newUserRole: string | null;
  createdBy: string;
}

export interface OidcProviderView {
  id: string;
  serviceId: string;
  name: string;
  issuer: string;
  clientId: string;
  allowedDomains: string[];
  newUserRole: string | null;
}

const view = (row: OidcProviderRow): OidcProviderView => ({
  id: row.id,
  serviceId: row.service_id,
  name: row.name,
  issuer: row.issuer,
  clientId: row.client_id,
  allowedDomains: row.allowed_domains,
  newUserRole: row.new_user_role,
});

/** Adds a provider to a service. The caller has checked team:manage with step-up. */
export async function addOidcProvider(ctx: AppContext, input: OidcProviderInput): Promise<OidcProviderView> {
  await requireService(ctx, input.serviceId);
  const name = input.name.trim();
  if (name.length === 0 || name.length > 100) throw unprocessable('Name must be 1 to 100 characters', 'name');
  let issuer: URL;
  try {
    issuer = new URL(input.issuer.trim());
  } catch {
    throw unprocessable('Issuer must be a URL', 'issuer');
  }
  if (issuer.protocol !== 'https:' && !(issuer.protocol === 'http:' && isLoopback(issuer))) throw unprocessable('Issuer must be an https:// URL', 'issuer');
  if (input.clientId.trim().length === 0 || input.clientId.length > 255) throw unprocessable('Client id is required', 'client_id');
  if (input.clientSecret.length === 0 || input.clientSecret.length > 1000) throw unprocessable('Client secret is required', 'client_secret');
  const domains = [...new Set(input.allowedDomains.map((d) => d.trim().toLowerCase()).filter(Boolean))];
  if (domains.length === 0 || domains.length > 50 || !domains.every(isDomain)) {
    throw unprocessable('Give at least one email domain, like example.org', 'allowed_domains');
  }
  if (input.newUserRole !== null && !isAssignableRole(input.newUserRole)) throw unprocessable('Unknown role', 'new_user_role');
  const id = prefixedId('idp');
  const row: OidcProviderRow = {
    id,
    service_id: input.serviceId,
    name,
    issuer: issuer.href.replace(/\/$/, ''),
    client_id: input.clientId.trim(),
    client_secret_sealed: seal(secretKey(ctx), input.clientSecret, `oidc:${id}`),
    allowed_domains: domains,
    new_user_role: input.newUserRole,
    created_at: ctx.clock.now(),
    created_by: input.createdBy,
  };
  await ctx.db.insertInto('console_oidc_providers').values(row).execute();
  return view(row);
}

export async function listOidcProviders(ctx: AppContext, serviceId?: string): Promise<OidcProviderView[]> {
  let query = ctx.db.selectFrom('console_oidc_providers').selectAll().orderBy('name');
  if (serviceId !== undefined) query = query.where('service_id', '=', serviceId);
  return (await query.execute()).map(view);
}

/**
 * Removes a provider from a service: its start link stops working at once, and sign-ins already
 * under way through it are dropped. Users it brought in keep their accounts (and their other
 * ways to sign in); an organisation that leaves should also disable those users.
 */
export async function removeOidcProvider(ctx: AppContext, serviceId: string, providerId: string): Promise<void> {
  await ctx.db.transaction().execute(async (trx) => {
    const row = await trx.selectFrom('console_oidc_providers').select('id').where('id', '=', providerId).where('service_id', '=', serviceId).forUpdate().executeTakeFirst();
    if (!row) throw notFound();
    await trx.deleteFrom('console_oidc_flows').where('provider_id', '=', providerId).execute();
    await trx.deleteFrom('console_oidc_providers').where('id', '=', providerId).execute();
  });
  discovered.delete(providerId);
}

async function providerRow(ctx: AppContext, id: string): Promise<OidcProviderRow> {
  const row = await ctx.db.selectFrom('console_oidc_providers').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw notFound();
  return row;
}

const discovered = new Map<string, { config: oidc.Configuration; at: number }>();

async function configurationFor(ctx: AppContext, row: OidcProviderRow): Promise<oidc.Configuration> {
  const cached = discovered.get(row.id);
  if (cached && Date.now() - cached.at < DISCOVERY_TTL_MS) return cached.config;
  const issuer = new URL(row.issuer);
  const secret = open(secretKey(ctx), row.client_secret_sealed, `oidc:${row.id}`);
  const config = await oidc.discovery(issuer, row.client_id, secret, oidc.ClientSecretPost(secret), {
    // Plain http only for an issuer on this machine (development and tests); never elsewhere.
    ...(issuer.protocol === 'http:' && isLoopback(issuer) ? { execute: [oidc.allowInsecureRequests] } : {}),
    timeout: 10,
  });
  discovered.set(row.id, { config, at: Date.now() });
  return config;
}

/** Starts a sign-in: the URL to send the browser to, and the state to put in its cookie. */
export async function startOidcSignIn(ctx: AppContext, providerId: string): Promise<{ url: string; state: string }> {
  const row = await providerRow(ctx, providerId);
  const config = await configurationFor(ctx, row);
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const codeVerifier = oidc.randomPKCECodeVerifier();
  const now = ctx.clock.now();
  await ctx.db
    .insertInto('console_oidc_flows')
    .values({ id: prefixedId('flow'), state_hash: sha256Hex(state), provider_id: row.id, nonce, code_verifier: codeVerifier, created_at: now, expires_at: new Date(now.getTime() + LIMITS.oidcFlowMs), used_at: null })
    .execute();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: callbackUrl(ctx),
    scope: 'openid email profile',
    code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
    state,
    nonce,
  });
  return { url: url.href, state };
}

export type OidcOutcome =
  | { ok: true; token: string; session: ConsoleSession; next: 'mfa' | 'enrol'; userId: string }
  | { ok: false; reason: 'invalid-flow' | 'provider-error' | 'email-not-verified' | 'domain-not-allowed' | 'not-invited' | 'user-disabled' };

/**
 * Finishes a sign-in at the callback: `stateFromCookie` is what the browser's cookie holds,
 * `currentUrl` the full callback URL the provider redirected to.
 */
export async function finishOidcSignIn(ctx: AppContext, stateFromCookie: string | undefined, currentUrl: URL, client: ClientInfo): Promise<OidcOutcome> {
  const now = ctx.clock.now();
  const failed = async (reason: Exclude<OidcOutcome, { ok: true }>['reason'], detail: { email?: string | null; userId?: string | null } = {}): Promise<OidcOutcome> => {
    await signinRepo.recordFailure(ctx.db, { at: ctx.clock.now(), email: detail.email ?? null, userId: detail.userId ?? null, ip: client.ip, reason: `oidc-${reason}`, knownDevice: false });
    await recordAudit(ctx.db, { actor: detail.userId ? { type: 'user', id: detail.userId } : { type: 'anonymous', id: 'anonymous' }, action: 'console.sign_in', at: ctx.clock.now(), outcome: 'denied', ip: client.ip, details: { reason: `oidc-${reason}`, via: 'oidc' } });
    ctx.log.warn({ console: 'sign-in-failure', reason: `oidc-${reason}`, ip: client.ip }, 'console OIDC sign-in failed');
    return { ok: false, reason };
  };
  if (!stateFromCookie || stateFromCookie.length > 200) return failed('invalid-flow');
  const flow = await ctx.db
    .updateTable('console_oidc_flows')
    .set({ used_at: now })
    .where('state_hash', '=', sha256Hex(stateFromCookie))
    .where('used_at', 'is', null)
    .where('expires_at', '>', now)
    .returningAll()
    .executeTakeFirst();
  if (!flow) return failed('invalid-flow');
  const row = await providerRow(ctx, flow.provider_id);

  let claims: Record<string, unknown>;
  try {
    const config = await configurationFor(ctx, row);
    const tokens = await oidc.authorizationCodeGrant(config, currentUrl, {
      pkceCodeVerifier: flow.code_verifier,
      expectedState: stateFromCookie,
      expectedNonce: flow.nonce,
      idTokenExpected: true,
    });
    const idToken = tokens.claims();
    if (!idToken) return failed('provider-error');
    claims = { ...idToken };
    // Providers that follow the spec to the letter keep email for the UserInfo endpoint; the
    // library checks that its subject is the ID token's.
    if (idToken.email === undefined) claims = { ...idToken, ...(await oidc.fetchUserInfo(config, tokens.access_token, idToken.sub)) };
  } catch (err) {
    ctx.log.info({ err, provider: row.id }, 'OIDC code exchange refused');
    return failed('provider-error');
  }
  const email = typeof claims.email === 'string' ? claims.email.trim() : '';
  if (email.length === 0 || claims.email_verified !== true) return failed('email-not-verified', { email: email || null });
  const domain = email.split('@').pop()?.toLowerCase() ?? '';
  if (!row.allowed_domains.includes(domain)) return failed('domain-not-allowed', { email });

  let user = await users.findUserByEmail(ctx.db, email);
  const membership = user ? await users.findMembership(ctx.db, row.service_id, user.id) : undefined;
  if (user && user.status !== 'active') return failed('user-disabled', { email, userId: user.id });
  if (!membership && row.new_user_role === null) return failed('not-invited', { email, userId: user?.id ?? null });

  const started = await ctx.db.transaction().execute(async (trx) => {
    if (!user) {
      const created = newUserRow({ email, passwordHash: null, createdBy: `oidc:${row.id}`, at: now });
      if (!(await users.insertUser(trx, created))) throw conflict('The account was created meanwhile; sign in again');
      user = created;
    }
    if (!membership && row.new_user_role !== null) {
      await users.upsertMembership(trx, { user_id: user.id, service_id: row.service_id, role: row.new_user_role, created_at: now, created_by: `oidc:${row.id}` });
    }
    return user;
  });
  const next = hasSecondFactor(await mfaMethodsOf(ctx, started)) ? 'mfa' : 'enrol';
  const session = await createSession(ctx.db, ctx, { userId: started.id, stage: next, ip: client.ip, userAgent: client.userAgent, via: 'oidc' });
  return { ok: true, ...session, next, userId: started.id };
}

/**
 * SameSite=Lax, not Strict: the provider sends the browser back with a cross-site top-level
 * navigation, on which a Strict cookie would not be sent. It carries only the flow's state.
 */
export function oidcStateCookie(state: string): string {
  return `${OIDC_STATE_COOKIE}=${state}; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=${Math.floor(LIMITS.oidcFlowMs / 1000)}`;
}
