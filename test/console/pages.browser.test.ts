// The console's first pages in a real browser (Debian Chromium through playwright-core):
// invite → choose a password → enrol the authenticator app → recovery codes → home → sign out →
// sign in with password and code; cookies, session fixation, CSRF, lockout and idle timeout;
// axe-core on every page.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { startCoffer, type TestCoffer } from '../support/harness.js';
import { axe, launchBrowser, openPage } from '../support/browser.js';
import { createInvite } from '../../src/console/identity/invite.service.js';
import { totpCodeAt } from '../../src/console/mfa/totp.js';
import { PASSWORD, enrolledUser, uniqueEmail } from './helpers.js';
import { addOidcProvider, callbackUrl } from '../../src/console/oidc/oidc.service.js';
import { CLIENT_ID, CLIENT_SECRET, startTestIdp } from './test-idp.js';

let coffer: TestCoffer;
let browser: Browser;
before(async () => {
  coffer = await startCoffer();
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await coffer?.close();
});

async function noAxeViolations(page: Page): Promise<void> {
  const violations = await axe(page);
  assert.deepEqual(violations, [], `axe on ${page.url()}: ${JSON.stringify(violations, null, 1)}`);
}

/** GET /console with only this session cookie, not following the redirect. */
const withCookie = (value: string) => fetch(`${coffer.url}/console`, { redirect: 'manual', headers: { cookie: `__Host-coffer_session=${value}` } });

/** Invite → password → authenticator app → recovery codes → home. Returns what a person would keep. */
async function onboard(page: Page, role = 'view-and-refund') {
  const serviceId = await coffer.newService('Parking permits');
  const email = uniqueEmail('browser');
  const invite = await createInvite(coffer.ctx, { email, serviceId, role, createdBy: 'operator:test' });
  await page.goto(invite.link);
  assert.equal(await page.locator('h1').textContent(), 'Create your account');
  assert.ok((await page.locator('main').textContent())?.includes('Parking permits'));
  await noAxeViolations(page);
  await page.fill('#password', 'short');
  await page.fill('#confirm', 'short');
  await page.click('button[type=submit]');
  assert.ok((await page.locator('.error-summary').textContent())?.includes('at least 12 characters'));
  await page.fill('#password', PASSWORD);
  await page.fill('#confirm', PASSWORD);
  await page.click('button[type=submit]');
  await page.waitForURL('**/console/mfa/setup');
  await noAxeViolations(page);
  assert.equal(await page.locator('.qr-code svg').count(), 1);
  const secret = (await page.locator('#totp-secret').textContent())!.replace(/\s+/g, '');
  await page.fill('#code', '000000');
  await page.click('button[type=submit]');
  assert.ok((await page.locator('.error-summary').textContent())?.includes('code is not right'));
  await page.fill('#code', totpCodeAt(secret, coffer.clock.now()));
  await page.click('button[type=submit]');
  assert.equal(await page.locator('h1').textContent(), 'Save your recovery codes');
  const codes = await page.locator('#recovery-codes code').allTextContents();
  assert.equal(codes.length, 10);
  await noAxeViolations(page);
  await page.click('text=I have saved my recovery codes');
  await page.waitForURL('**/console');
  coffer.clock.advance(30_000);
  return { email, secret, codes, serviceId };
}

describe('console pages in a browser', () => {
  test('invite → set password → enrol TOTP → home → sign out → sign in again with password and code', async () => {
    const { page, context, console: log } = await openPage(browser);
    const me = await onboard(page);
    assert.ok((await page.locator('main').textContent())?.includes('Parking permits'));
    assert.ok((await page.locator('main').textContent())?.includes('view-and-refund'));
    await noAxeViolations(page);

    const cookies = await context.cookies();
    const session = cookies.find((c) => c.name === '__Host-coffer_session')!;
    assert.deepEqual([session.httpOnly, session.secure, session.sameSite, session.path], [true, true, 'Strict', '/']);
    assert.ok(cookies.some((c) => c.name === '__Host-coffer_device' && c.httpOnly && c.secure));
    const signedInValue = session.value;

    await page.click('text=Sign out');
    await page.waitForURL('**/console/sign-in');
    await noAxeViolations(page);
    // The old cookie value is dead on the server, not just deleted in the browser.
    const replay = await withCookie(signedInValue);
    assert.equal(replay.status, 303);
    assert.equal(replay.headers.get('location'), '/console/sign-in');

    await page.fill('#email', me.email);
    await page.fill('#password', PASSWORD);
    await page.click('button[type=submit]');
    await page.waitForURL('**/console/sign-in/mfa');
    await noAxeViolations(page);
    const midway = (await context.cookies()).find((c) => c.name === '__Host-coffer_session')!.value;
    await page.fill('#code', totpCodeAt(me.secret, coffer.clock.now()));
    await page.click('form:first-of-type button[type=submit]');
    await page.waitForURL('**/console');
    const after = (await context.cookies()).find((c) => c.name === '__Host-coffer_session')!.value;
    assert.notEqual(after, midway, 'a new session token after the second factor (no fixation)');
    assert.equal((await withCookie(midway)).headers.get('location'), '/console/sign-in');
    assert.equal((await withCookie(after)).status, 200);
    assert.deepEqual(log.errors, []);
    assert.ok(!log.messages.some((m) => /Content Security Policy/i.test(m)), log.messages.join('\n'));
    await context.close();
    coffer.clock.advance(30_000);
  });

  test('a recovery code signs in once', async () => {
    const { page, context } = await openPage(browser);
    const me = await onboard(page);
    await page.click('text=Sign out');
    await page.fill('#email', me.email);
    await page.fill('#password', PASSWORD);
    await page.click('button[type=submit]');
    await page.fill('#recovery_code', me.codes[0]!);
    await page.click('text=Sign in with a recovery code');
    await page.waitForURL('**/console');
    await page.click('text=Sign out');
    await page.fill('#email', me.email);
    await page.fill('#password', PASSWORD);
    await page.click('button[type=submit]');
    await page.fill('#recovery_code', me.codes[0]!);
    await page.click('text=Sign in with a recovery code');
    assert.ok((await page.locator('.error-summary').textContent())?.includes('code is not right'));
    await context.close();
  });

  test('lockout: ten wrong passwords, then the right one is refused too', async () => {
    const { page: setup, context: first } = await openPage(browser);
    const me = await onboard(setup);
    await first.close();
    const { page, context } = await openPage(browser);
    await page.goto(`${coffer.url}/console/sign-in`);
    for (let i = 0; i < 10; i++) {
      await page.fill('#email', me.email);
      await page.fill('#password', `wrong password ${i}`);
      await page.click('button[type=submit]');
    }
    await page.fill('#email', me.email);
    await page.fill('#password', PASSWORD);
    await page.click('button[type=submit]');
    assert.ok((await page.locator('.error-summary').textContent())?.includes('locked for 30 minutes'));
    assert.equal(page.url(), `${coffer.url}/console/sign-in`);
    await context.close();
  });

  test('idle timeout (configured short): the next page after it asks to sign in again', async () => {
    const { page, context } = await openPage(browser);
    await onboard(page);
    coffer.ctx.console = { idleTimeoutMs: 60_000 };
    try {
      await page.goto(`${coffer.url}/console`);
      assert.equal(await page.locator('h1').textContent(), 'Your services');
      coffer.clock.advance(61_000);
      await page.goto(`${coffer.url}/console`);
      await page.waitForURL('**/console/sign-in');
    } finally {
      delete coffer.ctx.console;
    }
    await context.close();
  });

  test('CSRF: a sign-in or sign-out form posted without its token is refused', async () => {
    const { page, context } = await openPage(browser);
    await page.goto(`${coffer.url}/console/sign-in`);
    const noToken = await page.request.post(`${coffer.url}/console/sign-in`, { form: { email: 'a@example.org', password: 'x' }, maxRedirects: 0 });
    assert.equal(noToken.status(), 403);
    const badToken = await page.request.post(`${coffer.url}/console/sign-out`, { form: { csrf_token: 'forged' }, maxRedirects: 0 });
    assert.equal(badToken.status(), 403);
    const noBrowserSession = await coffer.request('POST', '/console/sign-in', { rawBody: 'email=a%40example.org&password=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    assert.equal(noBrowserSession.status, 403);
    await context.close();
  });

  test('a used or unknown invitation link shows an explanation, not a form', async () => {
    const { page, context } = await openPage(browser);
    const response = await page.goto(`${coffer.url}/console/invite/${'x'.repeat(43)}`);
    assert.equal(response?.status(), 410);
    assert.equal(await page.locator('h1').textContent(), 'This invitation link does not work');
    assert.equal(await page.locator('form').count(), 0);
    await noAxeViolations(page);
    await context.close();
  });

  test('OIDC sign-in: through the organisation’s provider, then Coffer’s own second factor', async () => {
    const idp = await startTestIdp(callbackUrl(coffer.ctx));
    try {
      const member = await enrolledUser(coffer, { role: 'view-only' });
      const provider = await addOidcProvider(coffer.ctx, {
        serviceId: member.serviceId,
        name: 'Example IdP',
        issuer: idp.issuer,
        clientId: CLIENT_ID,
        clientSecret: CLIENT_SECRET,
        allowedDomains: ['example.org'],
        newUserRole: null,
        createdBy: 'operator:test',
      });
      const { page, context } = await openPage(browser);
      await page.goto(`${coffer.url}/console/sign-in/oidc/${provider.id}`);
      // The provider's own (development) login and consent screens.
      await page.fill('input[name=login]', idp.person(member.email));
      await page.fill('input[name=password]', 'anything');
      await page.click('button[type=submit]');
      await page.click('button[type=submit]');
      await page.waitForURL('**/console/sign-in/mfa');
      await page.fill('#code', totpCodeAt(member.totpSecret, coffer.clock.now()));
      await page.click('form:first-of-type button[type=submit]');
      await page.waitForURL('**/console');
      assert.ok((await page.locator('main').textContent())?.includes('view-only'));
      await context.close();
      coffer.clock.advance(30_000);
    } finally {
      await idp.close();
    }
  });

  test('passkey: enrolled instead of an app with a virtual authenticator, then used to sign in', async () => {
    // WebAuthn refuses IP addresses as relying-party ids, so this test reaches Coffer as localhost.
    const original = coffer.ctx.baseUrl;
    coffer.ctx.baseUrl = coffer.url.replace('127.0.0.1', 'localhost');
    const { page, context, console: log } = await openPage(browser);
    try {
      const cdp = await context.newCDPSession(page);
      await cdp.send('WebAuthn.enable');
      await cdp.send('WebAuthn.addVirtualAuthenticator', {
        options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
      });
      const serviceId = await coffer.newService('Passkey service');
      const email = uniqueEmail('passkey');
      const invite = await createInvite(coffer.ctx, { email, serviceId, role: 'developer', createdBy: 'operator:test' });
      await page.goto(invite.link);
      await page.fill('#password', PASSWORD);
      await page.fill('#confirm', PASSWORD);
      await page.click('button[type=submit]');
      await page.waitForURL('**/console/mfa/setup');
      await page.click('text=Use a passkey instead');
      await page.waitForURL('**/console/mfa/passkey');
      await noAxeViolations(page);
      await page.fill('#name', 'Virtual key');
      await page.click('button:has-text("Add a passkey")');
      await page.waitForSelector('#recovery-codes');
      assert.equal(await page.locator('#recovery-codes code').count(), 10);
      await page.click('text=I have saved my recovery codes');
      await page.waitForURL('**/console');
      const stored = await coffer.ctx.db.selectFrom('console_passkeys').innerJoin('console_users', 'console_users.id', 'console_passkeys.user_id').select('console_passkeys.name').where('console_users.email', '=', email).execute();
      assert.deepEqual(stored.map((r) => r.name), ['Virtual key']);

      await page.click('text=Sign out');
      await page.fill('#email', email);
      await page.fill('#password', PASSWORD);
      await page.click('button[type=submit]');
      await page.waitForURL('**/console/sign-in/mfa');
      await noAxeViolations(page);
      await page.click('button:has-text("Use a passkey")');
      await page.waitForURL('**/console');
      assert.ok((await page.locator('main').textContent())?.includes('Passkey service'));
      assert.deepEqual(log.errors, []);
      assert.ok(!log.messages.some((m) => /Content Security Policy|Trusted Type/i.test(m)), log.messages.join('\n'));
    } finally {
      coffer.ctx.baseUrl = original;
      await context.close();
    }
  });

  test('sessions page: see where you are signed in and end another session; step-up asks for the code again', async () => {
    const { page, context } = await openPage(browser);
    const me = await onboard(page);
    const { page: other, context: otherContext } = await openPage(browser);
    await other.goto(`${coffer.url}/console/sign-in`);
    await other.fill('#email', me.email);
    await other.fill('#password', PASSWORD);
    await other.click('button[type=submit]');
    await other.fill('#code', totpCodeAt(me.secret, coffer.clock.now()));
    await other.click('form:first-of-type button[type=submit]');
    await other.waitForURL('**/console');
    coffer.clock.advance(30_000);

    await page.click('text=Where you are signed in');
    await page.waitForURL('**/console/account/sessions');
    assert.equal(await page.locator('tbody tr').count(), 2);
    await noAxeViolations(page);
    await page.click('tbody button:has-text("End")');
    await page.waitForURL('**/console/account/sessions');
    assert.equal(await page.locator('tbody tr').count(), 1);
    await other.goto(`${coffer.url}/console`);
    await other.waitForURL('**/console/sign-in');

    // Step-up: more than 5 minutes after the last code, the confirm page asks again and swaps the token.
    coffer.clock.advance(6 * 60_000);
    await page.goto(`${coffer.url}/console/confirm?next=/console/account/sessions`);
    assert.equal(await page.locator('h1').textContent(), 'Confirm it is you');
    await noAxeViolations(page);
    const before = (await context.cookies()).find((c) => c.name === '__Host-coffer_session')!.value;
    await page.fill('#code', totpCodeAt(me.secret, coffer.clock.now()));
    await page.click('main button[type=submit]');
    await page.waitForURL('**/console/account/sessions');
    const after = (await context.cookies()).find((c) => c.name === '__Host-coffer_session')!.value;
    assert.notEqual(after, before);
    // Within 5 minutes it goes straight on; and it never sends anyone off-site.
    await page.goto(`${coffer.url}/console/confirm?next=https://evil.example/`);
    await page.waitForURL(`${coffer.url}/console`);
    await otherContext.close();
    await context.close();
    coffer.clock.advance(30_000);
  });

  test('console pages are no-store and carry the page CSP without inline script', async () => {
    const response = await coffer.request('GET', '/console/sign-in');
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('cache-control'), 'no-store');
    const csp = response.headers.get('content-security-policy') ?? '';
    assert.match(csp, /script-src 'self'/);
    assert.ok(!csp.includes('unsafe-inline'));
    assert.ok(!/<script(?![^>]*src=)/.test(response.text), 'no inline script');
  });
});
