// Users, invites and passwords: the identity half of the console, on the real store.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startCoffer, type TestCoffer } from '../support/harness.js';
import { acceptInviteAsExistingUser, acceptInviteAsNewUser, createInvite, viewInvite } from '../../src/console/identity/invite.service.js';
import { checkPassword, hashPassword, verifyPassword } from '../../src/console/identity/password.js';
import { sha256Hex } from '../../src/platform/hashing.js';
import { runOperation } from '../../src/main/operations.js';
import { authorise, changeRole, membershipsOf } from '../../src/console/identity/user.service.js';
import { PASSWORD, enrolledUser, uniqueEmail, signIn } from './helpers.js';

let coffer: TestCoffer;
before(async () => {
  coffer = await startCoffer();
});
after(() => coffer.close());

const HOUR = 3_600_000;
const tokenOf = (link: string) => link.split('/').at(-1)!;
const who = { ip: '192.0.2.1', userAgent: 'test' };

describe('passwords', () => {
  test('at least 12 characters, at most 128, counted as characters not bytes', () => {
    assert.equal(checkPassword('a'.repeat(11) + 'b'), undefined);
    assert.equal(checkPassword('eleven char'), 'too-short');
    assert.equal(checkPassword('ééééééééééé'), 'too-short');
    assert.equal(checkPassword('🙂'.repeat(12)), undefined);
    assert.equal(checkPassword('x'.repeat(128)), undefined);
    assert.equal(checkPassword('x'.repeat(129)), 'too-long');
  });

  test('no composition rules: lower-case words and spaces are fine', () => {
    assert.equal(checkPassword('purple monkey dishwasher'), undefined);
  });

  test('common passwords are refused, whatever their case, and so is the account’s own address', () => {
    assert.equal(checkPassword('qwertyuiop123'), 'common');
    assert.equal(checkPassword('1q2w3e4r5t6y'), 'common');
    assert.equal(checkPassword('PasswordPassword'.toUpperCase()), checkPassword('passwordpassword'));
    assert.equal(checkPassword('QAZWSXEDCRFV'), 'common');
    assert.equal(checkPassword('jane.doe.smith@example.org', { email: 'Jane.Doe.Smith@example.org' }), 'common');
  });

  test('stored as argon2id, never in clear, verified only by the right password', async () => {
    const hash = await hashPassword(PASSWORD);
    assert.match(hash, /^\$argon2id\$v=19\$m=19456,p=1,t=2\$/);
    assert.ok(!hash.includes(PASSWORD));
    assert.equal(await verifyPassword(hash, PASSWORD), true);
    assert.equal(await verifyPassword(hash, PASSWORD + ' '), false);
    assert.equal(await verifyPassword(null, PASSWORD), false);
    assert.equal(await verifyPassword(hash, 'x'.repeat(10_000)), false);
  });
});

describe('invites', () => {
  test('an invite is a 256-bit single-use link under the base URL, stored only as a hash', async () => {
    const serviceId = await coffer.newService();
    const invite = await createInvite(coffer.ctx, { email: uniqueEmail(), serviceId, role: 'view-only', createdBy: 'operator:test' });
    assert.ok(invite.link.startsWith(`${coffer.ctx.baseUrl}/console/invite/`));
    const token = tokenOf(invite.link);
    assert.ok(Buffer.from(token, 'base64url').length >= 16);
    const row = await coffer.ctx.db.selectFrom('console_invites').selectAll().where('id', '=', invite.id).executeTakeFirstOrThrow();
    assert.equal(row.token_hash, sha256Hex(token));
    assert.ok(!JSON.stringify(row).includes(token));
    assert.equal(row.expires_at.getTime() - row.created_at.getTime(), 24 * HOUR);
  });

  test('accepting creates the user with their role and an enrol-only session; the link then stops working', async () => {
    const serviceId = await coffer.newService();
    const email = uniqueEmail();
    const invite = await createInvite(coffer.ctx, { email, serviceId, role: 'view-and-refund', createdBy: 'operator:test' });
    const view = await viewInvite(coffer.ctx, tokenOf(invite.link));
    assert.deepEqual({ email: view.email, role: view.role, existingUser: view.existingUser }, { email, role: 'view-and-refund', existingUser: false });
    const accepted = await acceptInviteAsNewUser(coffer.ctx, tokenOf(invite.link), { password: PASSWORD, ...who });
    assert.equal(accepted.session.stage, 'enrol');
    assert.deepEqual(await membershipsOf(coffer.ctx, accepted.userId), [{ serviceId, serviceName: 'Test service', role: 'view-and-refund' }]);
    await assert.rejects(viewInvite(coffer.ctx, tokenOf(invite.link)), { code: 'C0606', status: 410 });
    await assert.rejects(acceptInviteAsNewUser(coffer.ctx, tokenOf(invite.link), { password: PASSWORD, ...who }), { code: 'C0606' });
  });

  test('an invite is refused after 24 hours', async () => {
    const serviceId = await coffer.newService();
    const invite = await createInvite(coffer.ctx, { email: uniqueEmail(), serviceId, role: 'view-only', createdBy: 'operator:test' });
    coffer.clock.advance(24 * HOUR);
    await assert.rejects(acceptInviteAsNewUser(coffer.ctx, tokenOf(invite.link), { password: PASSWORD, ...who }), { code: 'C0606' });
  });

  test('a weak password is refused and the invite stays usable', async () => {
    const serviceId = await coffer.newService();
    const invite = await createInvite(coffer.ctx, { email: uniqueEmail(), serviceId, role: 'view-only', createdBy: 'operator:test' });
    await assert.rejects(acceptInviteAsNewUser(coffer.ctx, tokenOf(invite.link), { password: 'short', ...who }), { code: 'C0422', field: 'password' });
    await assert.rejects(acceptInviteAsNewUser(coffer.ctx, tokenOf(invite.link), { password: 'qwertyuiop123', ...who }), { code: 'C0422', field: 'password' });
    const ok = await acceptInviteAsNewUser(coffer.ctx, tokenOf(invite.link), { password: PASSWORD, ...who });
    assert.ok(ok.userId.startsWith('usr_'));
  });

  test('unknown, malformed and wrong tokens all look the same', async () => {
    for (const token of ['', 'short', 'x'.repeat(43), 'y'.repeat(500)]) {
      await assert.rejects(viewInvite(coffer.ctx, token), { code: 'C0606' });
    }
  });

  test('bad input is refused: email format, unknown or not-yet-assignable role, unknown service', async () => {
    const serviceId = await coffer.newService();
    await assert.rejects(createInvite(coffer.ctx, { email: 'not an email', serviceId, role: 'view-only', createdBy: 't' }), { code: 'C0422', field: 'email' });
    await assert.rejects(createInvite(coffer.ctx, { email: uniqueEmail(), serviceId, role: 'owner', createdBy: 't' }), { code: 'C0422', field: 'role' });
    await assert.rejects(createInvite(coffer.ctx, { email: uniqueEmail(), serviceId, role: 'payout-approver', createdBy: 't' }), { code: 'C0422', field: 'role' });
    await assert.rejects(createInvite(coffer.ctx, { email: uniqueEmail(), serviceId: 'svc_nope', role: 'view-only', createdBy: 't' }), { code: 'C0405' });
  });

  test('emails are unique whatever their case: a second account for the same address is refused', async () => {
    const email = uniqueEmail('Case');
    const first = await enrolledUser(coffer, { email });
    const otherService = await coffer.newService();
    const invite = await createInvite(coffer.ctx, { email: email.toUpperCase(), serviceId: otherService, role: 'view-only', createdBy: 't' });
    assert.equal((await viewInvite(coffer.ctx, tokenOf(invite.link))).existingUser, true);
    await assert.rejects(acceptInviteAsNewUser(coffer.ctx, tokenOf(invite.link), { password: PASSWORD, ...who }), { code: 'C0409' });
    // The existing user accepts it from their own signed-in session instead.
    const { session } = await signIn(coffer, first);
    await acceptInviteAsExistingUser(coffer.ctx, tokenOf(invite.link), session);
    assert.deepEqual((await membershipsOf(coffer.ctx, first.userId)).map((m) => m.serviceId).sort(), [first.serviceId, otherService].sort());
    const rows = await coffer.ctx.db.selectFrom('console_users').select('id').where('email', 'ilike', email).execute();
    assert.equal(rows.length, 1);
  });

  test('an invite for someone else cannot be taken by a signed-in user', async () => {
    const me = await enrolledUser(coffer);
    const invite = await createInvite(coffer.ctx, { email: uniqueEmail(), serviceId: await coffer.newService(), role: 'administrator', createdBy: 't' });
    await assert.rejects(acceptInviteAsExistingUser(coffer.ctx, tokenOf(invite.link), me.session), { code: 'C0606' });
  });

  test('inviting an existing member again is a conflict', async () => {
    const user = await enrolledUser(coffer);
    await assert.rejects(createInvite(coffer.ctx, { email: user.email, serviceId: user.serviceId, role: 'view-only', createdBy: 't' }), { code: 'C0409' });
  });

  test('the operator CLI operation prints a working link', async () => {
    const serviceId = await coffer.newService();
    const email = uniqueEmail('cli');
    const result = (await runOperation(coffer.ctx, 'user.invite', { email, serviceId, role: 'developer' }, 'operator:alice')) as { link: string };
    assert.match(result.link, /^http:\/\/127\.0\.0\.1:\d+\/console\/invite\/[A-Za-z0-9_-]{43}$/);
    const view = await viewInvite(coffer.ctx, tokenOf(result.link));
    assert.equal(view.role, 'developer');
    const row = await coffer.ctx.db.selectFrom('console_invites').select('created_by').where('email', '=', email).executeTakeFirstOrThrow();
    assert.equal(row.created_by, 'operator:alice');
  });
});

describe('roles per service', () => {
  test('authorise: member of another service → not found; role without the permission → forbidden', async () => {
    const admin = await enrolledUser(coffer, { role: 'administrator' });
    const viewer = await enrolledUser(coffer, { role: 'view-only' });
    await assert.rejects(authorise(coffer.ctx, viewer.session, admin.serviceId, 'transactions:view'), { code: 'C0405', status: 404 });
    await assert.rejects(authorise(coffer.ctx, viewer.session, viewer.serviceId, 'refunds:create'), { code: 'C0602', status: 403 });
    const ok = await authorise(coffer.ctx, viewer.session, viewer.serviceId, 'transactions:view');
    assert.equal(ok.role, 'view-only');
  });

  test('the same person can hold different roles in different services', async () => {
    const user = await enrolledUser(coffer, { role: 'administrator' });
    const second = await coffer.newService();
    const invite = await createInvite(coffer.ctx, { email: user.email, serviceId: second, role: 'view-only', createdBy: 't' });
    await acceptInviteAsExistingUser(coffer.ctx, tokenOf(invite.link), user.session);
    const session = (await signIn(coffer, user)).session;
    assert.equal((await authorise(coffer.ctx, session, user.serviceId, 'team:manage')).role, 'administrator');
    await assert.rejects(authorise(coffer.ctx, session, second, 'team:manage'), { code: 'C0602' });
  });

  test('role changes: step-up required, roles validated, the last administrator cannot be demoted', async () => {
    const admin = await enrolledUser(coffer, { role: 'administrator' });
    const actor = await authorise(coffer.ctx, admin.session, admin.serviceId, 'team:manage');
    await assert.rejects(changeRole(coffer.ctx, actor, admin.userId, 'view-only'), { code: 'C0409' });
    await assert.rejects(changeRole(coffer.ctx, actor, admin.userId, 'superuser'), { code: 'C0422' });
    const other = await enrolledUser(coffer, { serviceId: admin.serviceId, role: 'view-only' });
    await changeRole(coffer.ctx, actor, other.userId, 'developer');
    assert.equal((await membershipsOf(coffer.ctx, other.userId))[0]!.role, 'developer');
    coffer.clock.advance(6 * 60_000);
    const stale = (await import('./helpers.js')).sessionOf(coffer, admin.token);
    await assert.rejects(authorise(coffer.ctx, await stale, admin.serviceId, 'team:manage'), { code: 'C0603' });
  });
});
