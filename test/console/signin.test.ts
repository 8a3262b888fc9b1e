// Sign-in: lockout after 10 failures for 30 minutes, the per-IP throttle, the known-device
// exemption that keeps an attacker from locking the owner out, and the failure record.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { startCoffer, type TestCoffer } from '../support/harness.js';
import { completeSignIn, signInFailuresSince, signInWithPassword } from '../../src/console/identity/signin.service.js';
import { disableUser } from '../../src/console/access/leaver.service.js';
import { lookupSession } from '../../src/console/sessions/session.service.js';
import { totpCodeAt } from '../../src/console/mfa/totp.js';
import { PASSWORD, client, enrolledUser, signIn, uniqueEmail } from './helpers.js';

let coffer: TestCoffer;
before(async () => {
  coffer = await startCoffer();
});
after(() => coffer.close());

const MINUTE = 60_000;
/** Each test works from its own addresses, so the per-IP throttle of one does not leak into another (or into a later run). */
const freshIp = () => `2001:db8:${randomInt(65536).toString(16)}:${randomInt(65536).toString(16)}::${randomInt(65536).toString(16)}`;

const password = (email: string, pw: string, c = client(freshIp())) => signInWithPassword(coffer.ctx, { email, password: pw }, c);
const userRow = (id: string) => coffer.ctx.db.selectFrom('console_users').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

describe('password step', () => {
  test('a wrong password and an unknown address fail the same way, and both are recorded', async () => {
    const user = await enrolledUser(coffer);
    const since = coffer.clock.now();
    const ip = freshIp();
    assert.deepEqual(await password(user.email, 'not the password!', client(ip)), { ok: false, reason: 'invalid' });
    const ghost = uniqueEmail('ghost');
    assert.deepEqual(await password(ghost, PASSWORD, client(ip)), { ok: false, reason: 'invalid' });
    const rows = (await signInFailuresSince(coffer.ctx, new Date(since.getTime() - 1))).filter((r) => r.ip === ip);
    assert.deepEqual(rows.map((r) => [r.reason, r.email, r.user_id]), [
      ['bad-password', user.email, user.userId],
      ['unknown-user', ghost, null],
    ]);
  });

  test('the session issued after the password is new, and its token dies when MFA completes (no fixation)', async () => {
    const user = await enrolledUser(coffer);
    const first = await password(user.email, PASSWORD);
    assert.ok(first.ok);
    const done = await completeSignIn(coffer.ctx, first.session, { kind: 'totp', code: totpCodeAt(user.totpSecret, coffer.clock.now()) }, client());
    assert.ok(done.ok);
    assert.notEqual(done.token, first.token);
    assert.equal((await lookupSession(coffer.ctx, first.token)).ok, false);
    assert.equal(done.session.id, first.session.id, 'same session record, new token');
    coffer.clock.advance(30_000);
  });

  test('a disabled user cannot sign in even with the right password', async () => {
    const user = await enrolledUser(coffer);
    await disableUser(coffer.ctx, user.userId, { by: 'operator:test', reason: 'left', confirmedKeyIds: [] });
    assert.deepEqual(await password(user.email, PASSWORD), { ok: false, reason: 'invalid' });
  });

  test('a half-finished sign-in expires after 10 minutes', async () => {
    const user = await enrolledUser(coffer);
    const first = await password(user.email, PASSWORD);
    assert.ok(first.ok);
    coffer.clock.advance(10 * MINUTE);
    assert.deepEqual(await lookupSession(coffer.ctx, first.token), { ok: false, reason: 'expired' });
  });
});

describe('account lockout', () => {
  test('ten failures lock the account for 30 minutes, even against the right password', async () => {
    const user = await enrolledUser(coffer);
    for (let i = 1; i <= 9; i++) assert.deepEqual(await password(user.email, `wrong password ${i}`), { ok: false, reason: 'invalid' });
    assert.deepEqual(await password(user.email, 'wrong password 10'), { ok: false, reason: 'locked' });
    const row = await userRow(user.userId);
    assert.equal(row.locked_until?.getTime(), coffer.clock.now().getTime() + 30 * MINUTE);
    assert.deepEqual(await password(user.email, PASSWORD), { ok: false, reason: 'locked' });
    coffer.clock.advance(29 * MINUTE);
    assert.deepEqual(await password(user.email, PASSWORD), { ok: false, reason: 'locked' });
    coffer.clock.advance(MINUTE);
    const after30 = await password(user.email, PASSWORD);
    assert.ok(after30.ok);
  });

  test('second-factor failures count too, and the lock ends the half-finished sign-in', async () => {
    const user = await enrolledUser(coffer);
    for (let i = 0; i < 8; i++) await password(user.email, 'wrong password here');
    const first = await password(user.email, PASSWORD);
    assert.ok(first.ok);
    assert.deepEqual(await completeSignIn(coffer.ctx, first.session, { kind: 'totp', code: '123456' }, client()), { ok: false, reason: 'invalid' });
    assert.deepEqual(await completeSignIn(coffer.ctx, first.session, { kind: 'recovery', code: 'nope' }, client()), { ok: false, reason: 'locked' });
    assert.deepEqual(await lookupSession(coffer.ctx, first.token), { ok: false, reason: 'unknown' });
  });

  test('a full sign-in clears the count', async () => {
    const user = await enrolledUser(coffer);
    for (let i = 0; i < 9; i++) await password(user.email, 'wrong password here');
    await signIn(coffer, user, client(freshIp()));
    assert.equal((await userRow(user.userId)).failed_count, 0);
    for (let i = 0; i < 9; i++) assert.deepEqual(await password(user.email, 'wrong password here'), { ok: false, reason: 'invalid' });
  });

  test('an attacker cannot lock the owner out: the owner’s known device still signs in, and lifts the lock', async () => {
    const user = await enrolledUser(coffer);
    for (let i = 0; i < 10; i++) await password(user.email, 'attacker guess');
    assert.ok((await userRow(user.userId)).locked_until);
    // A new browser is locked out…
    assert.deepEqual(await password(user.email, PASSWORD), { ok: false, reason: 'locked' });
    // …but the owner's browser, which signed in before, is not.
    const ownBrowser = client(freshIp(), user.deviceToken);
    const first = await password(user.email, PASSWORD, ownBrowser);
    assert.ok(first.ok);
    const done = await completeSignIn(coffer.ctx, first.session, { kind: 'totp', code: totpCodeAt(user.totpSecret, coffer.clock.now()) }, ownBrowser);
    assert.ok(done.ok);
    assert.equal(done.deviceToken, undefined, 'the known device keeps its token');
    const row = await userRow(user.userId);
    assert.equal(row.locked_until, null);
    assert.equal(row.failed_count, 0);
    coffer.clock.advance(30_000);
  });

  test('failures from a known device count against that device only; ten and it is forgotten', async () => {
    const user = await enrolledUser(coffer);
    const device = client(freshIp(), user.deviceToken);
    for (let i = 0; i < 10; i++) assert.deepEqual(await password(user.email, 'typo typo typo', device), { ok: false, reason: 'invalid' });
    assert.equal((await userRow(user.userId)).locked_until, null, 'the account is not locked by the device');
    const dev = await coffer.ctx.db.selectFrom('console_known_devices').selectAll().where('user_id', '=', user.userId).executeTakeFirstOrThrow();
    assert.ok(dev.revoked_at, 'device forgotten');
    // Now it counts as a new browser again.
    for (let i = 0; i < 10; i++) await password(user.email, 'typo typo typo', device);
    assert.deepEqual(await password(user.email, PASSWORD, device), { ok: false, reason: 'locked' });
  });

  test('a device token works only for the user it was issued to', async () => {
    const alice = await enrolledUser(coffer);
    const bob = await enrolledUser(coffer);
    for (let i = 0; i < 10; i++) await password(bob.email, 'attacker guess');
    assert.deepEqual(await password(bob.email, PASSWORD, client(freshIp(), alice.deviceToken)), { ok: false, reason: 'locked' });
  });
});

describe('per-IP throttle', () => {
  test('30 failures from one address in 15 minutes stop that address, for every account, until the window passes', async () => {
    const user = await enrolledUser(coffer);
    const ip = freshIp();
    for (let i = 0; i < 30; i++) await password(uniqueEmail('spray'), 'Spring2026!!!', client(ip));
    assert.deepEqual(await password(user.email, PASSWORD, client(ip)), { ok: false, reason: 'throttled' });
    // Another address is unaffected, and so is the user's own known browser behind the same address.
    assert.ok((await password(user.email, PASSWORD, client(freshIp()))).ok);
    assert.ok((await password(user.email, PASSWORD, client(ip, user.deviceToken))).ok);
    // Throttled attempts are recorded too, so a persistent attacker stays throttled.
    coffer.clock.advance(15 * MINUTE + 1);
    assert.ok((await password(user.email, PASSWORD, client(ip))).ok);
    assert.equal((await userRow(user.userId)).locked_until, null, 'the spray did not lock the user');
  });
});
