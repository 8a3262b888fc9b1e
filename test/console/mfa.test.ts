// Second factors: TOTP enrolment and replay, recovery codes, passkeys with a software
// authenticator, and the rule that MFA is mandatory.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startCoffer, type TestCoffer } from '../support/harness.js';
import { acceptInviteAsNewUser, createInvite } from '../../src/console/identity/invite.service.js';
import { completeSignIn, signInWithPassword, stepUp } from '../../src/console/identity/signin.service.js';
import { authorise } from '../../src/console/identity/user.service.js';
import {
  confirmPasskeyEnrolment,
  confirmTotpEnrolment,
  regenerateRecoveryCodes,
  removePasskey,
  removeTotp,
  startPasskeyEnrolment,
  startTotpEnrolment,
} from '../../src/console/mfa/enrolment.service.js';
import { passkeyChallenge } from '../../src/console/mfa/factor.service.js';
import { totpCodeAt, openTotpSecret } from '../../src/console/mfa/totp.js';
import { hashRecoveryCode } from '../../src/console/mfa/recovery.js';
import { PASSWORD, client, enrolledUser, secretOf, sessionOf, uniqueEmail } from './helpers.js';
import { lookupSession } from '../../src/console/sessions/session.service.js';
import { SoftAuthenticator } from './soft-authenticator.js';

let coffer: TestCoffer;
before(async () => {
  coffer = await startCoffer();
});
after(() => coffer.close());

async function newInvitee(role = 'administrator') {
  const serviceId = await coffer.newService();
  const email = uniqueEmail();
  const invite = await createInvite(coffer.ctx, { email, serviceId, role, createdBy: 't' });
  const accepted = await acceptInviteAsNewUser(coffer.ctx, invite.link.split('/').at(-1)!, { password: PASSWORD, ip: '192.0.2.1', userAgent: 't' });
  return { serviceId, email, ...accepted };
}

const userRow = (id: string) => coffer.ctx.db.selectFrom('console_users').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
const failures = (userId: string) => coffer.ctx.db.selectFrom('console_auth_failures').selectAll().where('user_id', '=', userId).orderBy('seq').execute();

describe('MFA is mandatory', () => {
  test('a session that has not enrolled a factor reaches nothing but enrolment', async () => {
    const invitee = await newInvitee();
    await assert.rejects(authorise(coffer.ctx, invitee.session, invitee.serviceId, 'transactions:view'), { code: 'C0604' });
    // Signing in again with only the password lands on enrolment, not in the service.
    const again = await signInWithPassword(coffer.ctx, { email: invitee.email, password: PASSWORD }, client());
    assert.ok(again.ok);
    assert.equal(again.next, 'enrol');
    await assert.rejects(authorise(coffer.ctx, again.session, invitee.serviceId, 'dashboard:view'), { code: 'C0604' });
  });

  test('after the password, an enrolled user’s session is at the MFA stage and reaches nothing', async () => {
    const user = await enrolledUser(coffer);
    const first = await signInWithPassword(coffer.ctx, { email: user.email, password: PASSWORD }, client());
    assert.ok(first.ok);
    assert.equal(first.next, 'mfa');
    await assert.rejects(authorise(coffer.ctx, first.session, user.serviceId, 'dashboard:view'), { code: 'C0604' });
  });
});

describe('TOTP', () => {
  test('enrolment shows the secret as text and as an SVG QR code; the secret is stored sealed', async () => {
    const invitee = await newInvitee();
    const enrolment = await startTotpEnrolment(coffer.ctx, invitee.session);
    const secret = secretOf(enrolment.secretText);
    assert.match(secret, /^[A-Z2-7]{32}$/);
    assert.equal(enrolment.secretText, secret.match(/.{4}/g)!.join(' '));
    assert.ok(enrolment.uri.startsWith('otpauth://totp/Coffer:'));
    assert.ok(enrolment.uri.includes(`secret=${secret}`));
    assert.ok(enrolment.qrSvg.startsWith('<svg'));
    assert.ok(!/<script|on\w+=/i.test(enrolment.qrSvg));
    const row = await userRow(invitee.userId);
    assert.ok(row.totp_pending_sealed && !row.totp_pending_sealed.includes(secret));
    // Sealed to this user: the same ciphertext cannot be opened as someone else's.
    assert.equal(openTotpSecret(coffer.ctx, invitee.userId, row.totp_pending_sealed), secret);
    assert.throws(() => openTotpSecret(coffer.ctx, 'usr_other', row.totp_pending_sealed!));
  });

  test('a wrong code does not enrol; the right one finishes sign-in with a new token, a device token and ten recovery codes', async () => {
    const invitee = await newInvitee();
    const enrolment = await startTotpEnrolment(coffer.ctx, invitee.session);
    await assert.rejects(confirmTotpEnrolment(coffer.ctx, invitee.session, '000000', client()), { code: 'C0605' });
    const done = await confirmTotpEnrolment(coffer.ctx, invitee.session, totpCodeAt(secretOf(enrolment.secretText), coffer.clock.now()), client());
    assert.equal(done.session.stage, 'full');
    assert.ok(done.token && done.token !== invitee.token);
    assert.ok(done.deviceToken);
    assert.equal(done.recoveryCodes?.length, 10);
    assert.equal(new Set(done.recoveryCodes).size, 10);
    for (const code of done.recoveryCodes!) {
      const groups = code.split('-');
      assert.equal(groups.length, 6);
      for (const g of groups) assert.match(g, /^[0-9a-hjkmnp-tv-z]{4}$/);
    }
    // The enrolment-stage token is dead; the new one is a full session.
    assert.equal((await lookupSession(coffer.ctx, invitee.token)).ok, false);
    assert.equal((await lookupSession(coffer.ctx, done.token)).ok, true);
    const stored = await coffer.ctx.db.selectFrom('console_recovery_codes').selectAll().where('user_id', '=', invitee.userId).execute();
    assert.equal(stored.length, 10);
    assert.deepEqual(stored.map((r) => r.code_hash).sort(), done.recoveryCodes!.map(hashRecoveryCode).sort());
    assert.ok(!JSON.stringify(stored).includes(done.recoveryCodes![0]!.replace(/-/g, '')));
    coffer.clock.advance(30_000);
  });

  test('a code can be used once: the same code again, or an older one, is refused', async () => {
    const user = await enrolledUser(coffer);
    const code = totpCodeAt(user.totpSecret, coffer.clock.now());
    const olderCode = totpCodeAt(user.totpSecret, new Date(coffer.clock.now().getTime() - 30_000));
    const first = await signInWithPassword(coffer.ctx, { email: user.email, password: PASSWORD }, client());
    assert.ok(first.ok);
    assert.ok((await completeSignIn(coffer.ctx, first.session, { kind: 'totp', code }, client())).ok);

    const second = await signInWithPassword(coffer.ctx, { email: user.email, password: PASSWORD }, client());
    assert.ok(second.ok);
    assert.deepEqual(await completeSignIn(coffer.ctx, second.session, { kind: 'totp', code }, client()), { ok: false, reason: 'invalid' });
    assert.deepEqual(await completeSignIn(coffer.ctx, second.session, { kind: 'totp', code: olderCode }, client()), { ok: false, reason: 'invalid' });
    assert.deepEqual((await failures(user.userId)).map((f) => f.reason), ['replayed-totp', 'replayed-totp']);
    coffer.clock.advance(30_000);
    const next = await completeSignIn(coffer.ctx, second.session, { kind: 'totp', code: totpCodeAt(user.totpSecret, coffer.clock.now()) }, client());
    assert.ok(next.ok);
  });

  test('codes one step either side are accepted (clock drift), two steps away are not', async () => {
    const user = await enrolledUser(coffer);
    const now = coffer.clock.now().getTime();
    const first = await signInWithPassword(coffer.ctx, { email: user.email, password: PASSWORD }, client());
    assert.ok(first.ok);
    assert.equal((await completeSignIn(coffer.ctx, first.session, { kind: 'totp', code: totpCodeAt(user.totpSecret, new Date(now - 60_000)) }, client())).ok, false);
    assert.equal((await completeSignIn(coffer.ctx, first.session, { kind: 'totp', code: totpCodeAt(user.totpSecret, new Date(now + 30_000)) }, client())).ok, true);
    coffer.clock.advance(60_000);
  });
});

describe('recovery codes', () => {
  test('each code signs in once, typed in any case or spacing', async () => {
    const user = await enrolledUser(coffer);
    const code = user.recoveryCodes[0]!;
    const first = await signInWithPassword(coffer.ctx, { email: user.email, password: PASSWORD }, client());
    assert.ok(first.ok);
    const done = await completeSignIn(coffer.ctx, first.session, { kind: 'recovery', code: ` ${code.toUpperCase().replace(/-/g, ' ')} ` }, client());
    assert.ok(done.ok);
    const again = await signInWithPassword(coffer.ctx, { email: user.email, password: PASSWORD }, client());
    assert.ok(again.ok);
    assert.deepEqual(await completeSignIn(coffer.ctx, again.session, { kind: 'recovery', code }, client()), { ok: false, reason: 'invalid' });
  });

  test('a new set replaces the old one and needs a recent second factor', async () => {
    const user = await enrolledUser(coffer);
    const fresh = await regenerateRecoveryCodes(coffer.ctx, user.session);
    assert.equal(fresh.length, 10);
    const first = await signInWithPassword(coffer.ctx, { email: user.email, password: PASSWORD }, client());
    assert.ok(first.ok);
    assert.equal((await completeSignIn(coffer.ctx, first.session, { kind: 'recovery', code: user.recoveryCodes[1]! }, client())).ok, false);
    assert.equal((await completeSignIn(coffer.ctx, first.session, { kind: 'recovery', code: fresh[0]! }, client())).ok, true);
    coffer.clock.advance(6 * 60_000);
    const stale = await sessionOf(coffer, user.token);
    await assert.rejects(regenerateRecoveryCodes(coffer.ctx, stale), { code: 'C0603' });
  });
});

describe('passkeys', () => {
  test('enrolled from a fresh session, then used as the second factor; the assertion cannot be replayed', async () => {
    const user = await enrolledUser(coffer);
    const authenticator = new SoftAuthenticator(coffer.ctx.baseUrl);
    const options = await startPasskeyEnrolment(coffer.ctx, user.session);
    assert.equal(options.rp.id, new URL(coffer.ctx.baseUrl).hostname);
    const added = await confirmPasskeyEnrolment(coffer.ctx, user.session, { response: authenticator.register(options), name: 'Laptop' }, client());
    assert.equal(added.recoveryCodes, undefined, 'codes are issued with the first factor only');
    const stored = await coffer.ctx.db.selectFrom('console_passkeys').selectAll().where('user_id', '=', user.userId).execute();
    assert.equal(stored.length, 1);
    assert.equal(stored[0]!.name, 'Laptop');

    const first = await signInWithPassword(coffer.ctx, { email: user.email, password: PASSWORD }, client());
    assert.ok(first.ok);
    const challenge = await passkeyChallenge(coffer.ctx, first.session);
    assert.deepEqual(challenge.allowCredentials?.map((c) => c.id), [stored[0]!.credential_id]);
    const assertion = authenticator.assert(challenge);
    const done = await completeSignIn(coffer.ctx, first.session, { kind: 'passkey', response: assertion as never }, client());
    assert.ok(done.ok);
    assert.equal(done.session.stage, 'full');

    const again = await signInWithPassword(coffer.ctx, { email: user.email, password: PASSWORD }, client());
    assert.ok(again.ok);
    await passkeyChallenge(coffer.ctx, again.session);
    assert.deepEqual(await completeSignIn(coffer.ctx, again.session, { kind: 'passkey', response: assertion as never }, client()), { ok: false, reason: 'invalid' });
  });

  test('a passkey can be the first and only factor', async () => {
    const invitee = await newInvitee();
    const authenticator = new SoftAuthenticator(coffer.ctx.baseUrl);
    const options = await startPasskeyEnrolment(coffer.ctx, invitee.session);
    const done = await confirmPasskeyEnrolment(coffer.ctx, invitee.session, { response: authenticator.register(options), name: '' }, client());
    assert.equal(done.session.stage, 'full');
    assert.equal(done.recoveryCodes?.length, 10);
    const first = await signInWithPassword(coffer.ctx, { email: invitee.email, password: PASSWORD }, client());
    assert.ok(first.ok && first.next === 'mfa');
    assert.ok((await completeSignIn(coffer.ctx, first.session, { kind: 'passkey', response: authenticator.assert(await passkeyChallenge(coffer.ctx, first.session)) as never }, client())).ok);
  });

  test('wrong origin, stale counter, unknown credential and missing challenge are all refused', async () => {
    const user = await enrolledUser(coffer);
    const authenticator = new SoftAuthenticator(coffer.ctx.baseUrl);
    const options = await startPasskeyEnrolment(coffer.ctx, user.session);
    await assert.rejects(
      confirmPasskeyEnrolment(coffer.ctx, user.session, { response: authenticator.register(options, { origin: 'https://evil.example' }), name: 'x' }, client()),
      { code: 'C0422' },
    );
    await confirmPasskeyEnrolment(coffer.ctx, user.session, { response: authenticator.register(await startPasskeyEnrolment(coffer.ctx, user.session)), name: 'x' }, client());

    const first = await signInWithPassword(coffer.ctx, { email: user.email, password: PASSWORD }, client());
    assert.ok(first.ok);
    const attempt = async (response: unknown) => (await completeSignIn(coffer.ctx, first.session, { kind: 'passkey', response: response as never }, client())).ok;
    assert.equal(await attempt(authenticator.assert(await passkeyChallenge(coffer.ctx, first.session), { origin: 'https://evil.example' })), false);
    assert.equal(await attempt(authenticator.assert(await passkeyChallenge(coffer.ctx, first.session))), true);

    const second = await signInWithPassword(coffer.ctx, { email: user.email, password: PASSWORD }, client());
    assert.ok(second.ok);
    const attempt2 = async (response: unknown) => (await completeSignIn(coffer.ctx, second.session, { kind: 'passkey', response: response as never }, client())).ok;
    assert.equal(await attempt2(authenticator.assert(await passkeyChallenge(coffer.ctx, second.session), { counter: 1 })), false, 'counter went backwards');
    assert.equal(await attempt2(new SoftAuthenticator(coffer.ctx.baseUrl).assert(await passkeyChallenge(coffer.ctx, second.session))), false, 'unknown credential');
    assert.equal(await attempt2(authenticator.assert({ challenge: 'never-issued' })), false, 'no challenge issued');
  });
});

describe('changing factors', () => {
  test('needs a second factor in the last 5 minutes; step-up gives it and swaps the token', async () => {
    const user = await enrolledUser(coffer);
    coffer.clock.advance(6 * 60_000);
    const stale = await sessionOf(coffer, user.token);
    await assert.rejects(startTotpEnrolment(coffer.ctx, stale), { code: 'C0603' });
    await assert.rejects(startPasskeyEnrolment(coffer.ctx, stale), { code: 'C0603' });
    const stepped = await stepUp(coffer.ctx, stale, { kind: 'totp', code: totpCodeAt(user.totpSecret, coffer.clock.now()) }, client());
    assert.ok(stepped.ok);
    assert.notEqual(stepped.token, user.token);
    assert.equal((await lookupSession(coffer.ctx, user.token)).ok, false);
    const enrolment = await startTotpEnrolment(coffer.ctx, stepped.session);
    assert.ok(enrolment.secretText.length > 0);
  });

  test('the last factor cannot be removed; with a passkey added, TOTP can go', async () => {
    const user = await enrolledUser(coffer);
    await assert.rejects(removeTotp(coffer.ctx, user.session), { code: 'C0409' });
    const authenticator = new SoftAuthenticator(coffer.ctx.baseUrl);
    await confirmPasskeyEnrolment(coffer.ctx, user.session, { response: authenticator.register(await startPasskeyEnrolment(coffer.ctx, user.session)), name: 'Key' }, client());
    await removeTotp(coffer.ctx, user.session);
    const [passkey] = await coffer.ctx.db.selectFrom('console_passkeys').select('id').where('user_id', '=', user.userId).execute();
    await assert.rejects(removePasskey(coffer.ctx, user.session, passkey!.id), { code: 'C0409' });
    await assert.rejects(removePasskey(coffer.ctx, user.session, 'pkey_someone_elses'), { code: 'C0405' });
  });
});
