// OIDC sign-in against a real OpenID Provider (the certified `oidc-provider` package) started
// here on a loopback port, with its development login and consent screens driven over HTTP.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startCoffer, type TestCoffer } from '../support/harness.js';
import { addOidcProvider, callbackUrl, finishOidcSignIn, startOidcSignIn } from '../../src/console/oidc/oidc.service.js';
import { completeSignIn } from '../../src/console/identity/signin.service.js';
import { confirmTotpEnrolment, startTotpEnrolment } from '../../src/console/mfa/enrolment.service.js';
import { totpCodeAt } from '../../src/console/mfa/totp.js';
import { authorise, membershipsOf } from '../../src/console/identity/user.service.js';
import { lookupSession } from '../../src/console/sessions/session.service.js';
import { client, enrolledUser, secretOf, uniqueEmail } from './helpers.js';
import { CLIENT_ID, CLIENT_SECRET, startTestIdp, type TestIdp } from './test-idp.js';

let coffer: TestCoffer;
let idp: TestIdp;
let issuer: string;

before(async () => {
  coffer = await startCoffer();
  idp = await startTestIdp(callbackUrl(coffer.ctx));
  issuer = idp.issuer;
});
after(async () => {
  await idp.close();
  await coffer.close();
});

/**
 * A browser's trip through the provider: follow redirects with cookies, fill the login form
 * with `subject`, press "Continue" on consent, and stop at the redirect back to Coffer.
 */
async function throughProvider(authorizationUrl: string, subject: string): Promise<URL> {
  const jar = new Map<string, string>();
  let url = authorizationUrl;
  let method = 'GET';
  let body: string | undefined;
  for (let hop = 0; hop < 20; hop++) {
    const response = await fetch(url, {
      method,
      redirect: 'manual',
      headers: {
        cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; '),
        ...(body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      ...(body ? { body } : {}),
    });
    for (const cookie of response.headers.getSetCookie()) {
      const [pair] = cookie.split(';');
      const [name, ...value] = pair!.split('=');
      jar.set(name!.trim(), value.join('='));
    }
    const location = response.headers.get('location');
    if (location) {
      const next = new URL(location, url);
      if (next.href.startsWith(callbackUrl(coffer.ctx))) return next;
      url = next.href;
      method = 'GET';
      body = undefined;
      continue;
    }
    const html = await response.text();
    const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
    const prompt = /name="prompt" value="([a-z]+)"/.exec(html)?.[1];
    if (!action || !prompt) throw new Error(`unexpected provider page (${response.status}): ${html.slice(0, 300)}`);
    url = new URL(action.replace(/&amp;/g, '&'), url).href;
    method = 'POST';
    body = new URLSearchParams(prompt === 'login' ? { prompt, login: subject, password: 'any' } : { prompt }).toString();
  }
  throw new Error('too many hops');
}

async function provider(serviceId: string, overrides: { allowedDomains?: string[]; newUserRole?: string | null } = {}) {
  return addOidcProvider(coffer.ctx, {
    serviceId,
    name: 'Example IdP',
    issuer,
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    allowedDomains: overrides.allowedDomains ?? ['example.org'],
    newUserRole: overrides.newUserRole === undefined ? null : overrides.newUserRole,
    createdBy: 'operator:test',
  });
}

const person = (email: string, verified = true): string => idp.person(email, verified);

describe('OIDC sign-in', () => {
  test('an invited member signs in through the provider, then gives Coffer’s own second factor', async () => {
    const member = await enrolledUser(coffer, { role: 'view-only' });
    const idpConfig = await provider(member.serviceId);
    const start = await startOidcSignIn(coffer.ctx, idpConfig.id);
    const authUrl = new URL(start.url);
    assert.equal(authUrl.origin, issuer);
    assert.equal(authUrl.searchParams.get('code_challenge_method'), 'S256');
    assert.equal(authUrl.searchParams.get('state'), start.state);
    assert.ok(authUrl.searchParams.get('nonce'));

    const back = await throughProvider(start.url, person(member.email.toUpperCase()));
    const outcome = await finishOidcSignIn(coffer.ctx, start.state, back, client());
    assert.ok(outcome.ok, JSON.stringify(outcome));
    assert.equal(outcome.userId, member.userId);
    assert.equal(outcome.next, 'mfa');
    await assert.rejects(authorise(coffer.ctx, outcome.session, member.serviceId, 'dashboard:view'), { code: 'C0604' });
    const done = await completeSignIn(coffer.ctx, outcome.session, { kind: 'totp', code: totpCodeAt(member.totpSecret, coffer.clock.now()) }, client());
    assert.ok(done.ok);
    assert.equal((await authorise(coffer.ctx, done.session, member.serviceId, 'dashboard:view')).role, 'view-only');
    coffer.clock.advance(30_000);
  });

  test('with a role for newcomers, someone from an allowed domain gets an account and must enrol MFA', async () => {
    const serviceId = await coffer.newService();
    const idpConfig = await provider(serviceId, { newUserRole: 'view-only' });
    const email = uniqueEmail('newcomer');
    const start = await startOidcSignIn(coffer.ctx, idpConfig.id);
    const outcome = await finishOidcSignIn(coffer.ctx, start.state, await throughProvider(start.url, person(email)), client());
    assert.ok(outcome.ok);
    assert.equal(outcome.next, 'enrol');
    assert.deepEqual((await membershipsOf(coffer.ctx, outcome.userId)).map((m) => [m.serviceId, m.role]), [[serviceId, 'view-only']]);
    const enrolment = await startTotpEnrolment(coffer.ctx, outcome.session);
    const done = await confirmTotpEnrolment(coffer.ctx, outcome.session, totpCodeAt(secretOf(enrolment.secretText), coffer.clock.now()), client());
    assert.equal(done.session.stage, 'full');
    const row = await coffer.ctx.db.selectFrom('console_users').select(['password_hash', 'created_by']).where('id', '=', outcome.userId).executeTakeFirstOrThrow();
    assert.deepEqual(row, { password_hash: null, created_by: `oidc:${idpConfig.id}` });
  });

  test('without a newcomer role, people who were not invited are refused', async () => {
    const serviceId = await coffer.newService();
    const idpConfig = await provider(serviceId);
    const start = await startOidcSignIn(coffer.ctx, idpConfig.id);
    const outcome = await finishOidcSignIn(coffer.ctx, start.state, await throughProvider(start.url, person(uniqueEmail('stranger'))), client());
    assert.deepEqual(outcome, { ok: false, reason: 'not-invited' });
  });

  test('an email outside the allowed domains, or unverified, is refused and recorded', async () => {
    const serviceId = await coffer.newService();
    const idpConfig = await provider(serviceId, { newUserRole: 'view-only', allowedDomains: ['example.org'] });
    const s1 = await startOidcSignIn(coffer.ctx, idpConfig.id);
    assert.deepEqual(await finishOidcSignIn(coffer.ctx, s1.state, await throughProvider(s1.url, person('someone@example.org.evil.test')), client()), { ok: false, reason: 'domain-not-allowed' });
    const s2 = await startOidcSignIn(coffer.ctx, idpConfig.id);
    assert.deepEqual(await finishOidcSignIn(coffer.ctx, s2.state, await throughProvider(s2.url, person(uniqueEmail(), false)), client()), { ok: false, reason: 'email-not-verified' });
    const rows = await coffer.ctx.db.selectFrom('console_auth_failures').select('reason').where('reason', 'like', 'oidc-%').execute();
    assert.ok(rows.some((r) => r.reason === 'oidc-domain-not-allowed'));
    assert.ok(rows.some((r) => r.reason === 'oidc-email-not-verified'));
  });

  test('the flow is bound to the browser that started it, and single use', async () => {
    const member = await enrolledUser(coffer);
    const idpConfig = await provider(member.serviceId);
    const mine = await startOidcSignIn(coffer.ctx, idpConfig.id);
    const theirs = await startOidcSignIn(coffer.ctx, idpConfig.id);
    const back = await throughProvider(mine.url, person(member.email));
    // Another browser's state cookie (login CSRF), or none, does not finish my flow.
    assert.deepEqual(await finishOidcSignIn(coffer.ctx, theirs.state, back, client()), { ok: false, reason: 'provider-error' });
    assert.deepEqual(await finishOidcSignIn(coffer.ctx, undefined, back, client()), { ok: false, reason: 'invalid-flow' });
    const ok = await finishOidcSignIn(coffer.ctx, mine.state, back, client());
    assert.ok(ok.ok);
    assert.deepEqual(await finishOidcSignIn(coffer.ctx, mine.state, back, client()), { ok: false, reason: 'invalid-flow' });
  });

  test('a flow expires after 10 minutes', async () => {
    const member = await enrolledUser(coffer);
    const idpConfig = await provider(member.serviceId);
    const start = await startOidcSignIn(coffer.ctx, idpConfig.id);
    const back = await throughProvider(start.url, person(member.email));
    coffer.clock.advance(10 * 60_000);
    assert.deepEqual(await finishOidcSignIn(coffer.ctx, start.state, back, client()), { ok: false, reason: 'invalid-flow' });
  });

  test('a disabled user cannot sign in through the provider', async () => {
    const member = await enrolledUser(coffer);
    const idpConfig = await provider(member.serviceId);
    const { disableUser } = await import('../../src/console/access/leaver.service.js');
    await disableUser(coffer.ctx, member.userId, { by: 'test', reason: 'left', confirmedKeyIds: [] });
    const start = await startOidcSignIn(coffer.ctx, idpConfig.id);
    assert.deepEqual(await finishOidcSignIn(coffer.ctx, start.state, await throughProvider(start.url, person(member.email)), client()), { ok: false, reason: 'user-disabled' });
    assert.equal((await lookupSession(coffer.ctx, member.token)).ok, false);
  });

  test('configuration: https issuers only (loopback excepted), domains and roles checked, secret sealed', async () => {
    const serviceId = await coffer.newService();
    const base = { serviceId, name: 'X', clientId: 'c', clientSecret: 's3cret-value', allowedDomains: ['example.org'], newUserRole: null, createdBy: 't' };
    await assert.rejects(addOidcProvider(coffer.ctx, { ...base, issuer: 'http://idp.example.org' }), { code: 'C0422', field: 'issuer' });
    await assert.rejects(addOidcProvider(coffer.ctx, { ...base, issuer: 'https://idp.example.org', allowedDomains: ['not a domain'] }), { field: 'allowed_domains' });
    await assert.rejects(addOidcProvider(coffer.ctx, { ...base, issuer: 'https://idp.example.org', newUserRole: 'payout-approver' }), { field: 'new_user_role' });
    const ok = await addOidcProvider(coffer.ctx, { ...base, issuer: 'https://idp.example.org' });
    const row = await coffer.ctx.db.selectFrom('console_oidc_providers').select('client_secret_sealed').where('id', '=', ok.id).executeTakeFirstOrThrow();
    assert.ok(!row.client_secret_sealed.includes('s3cret-value'));
    assert.ok(!JSON.stringify(ok).includes('s3cret'));
  });
});
