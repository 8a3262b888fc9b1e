// Leavers, the access review and the inactivity worker.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startCoffer, type TestCoffer } from '../support/harness.js';
import { disableUser, previewDisable, previewRemoval, removeMember, userActor } from '../../src/console/access/leaver.service.js';
import { accessReview, recordAccessReview } from '../../src/console/access/access-review.service.js';
import { authorise } from '../../src/console/identity/user.service.js';
import { createInvite, acceptInviteAsExistingUser } from '../../src/console/identity/invite.service.js';
import { lookupSession } from '../../src/console/sessions/session.service.js';
import { signInWithPassword } from '../../src/console/identity/signin.service.js';
import { createKey, revokeKey } from '../../src/keys/key.service.js';
import { runOperation } from '../../src/main/operations.js';
import { PASSWORD, client, enrolledUser, sessionOf, signIn } from './helpers.js';

let coffer: TestCoffer;
before(async () => {
  coffer = await startCoffer();
});
after(() => coffer.close());

const DAY = 86_400_000;

async function keyBy(serviceId: string, userId: string, name = 'integration') {
  return createKey(coffer.ctx, { serviceId, mode: 'test', name, createdBy: userActor(userId) });
}

async function apiStatus(token: string): Promise<number> {
  return (await coffer.request('GET', '/v1/account', { key: token })).status;
}

describe('leavers: removing someone from a service', () => {
  test('shows the keys they created, revokes exactly those, ends their sessions; the API refuses the keys at once', async () => {
    const admin = await enrolledUser(coffer, { role: 'administrator' });
    const dev = await enrolledUser(coffer, { serviceId: admin.serviceId, role: 'developer' });
    const devKey1 = await keyBy(admin.serviceId, dev.userId, 'shop');
    const devKey2 = await keyBy(admin.serviceId, dev.userId, 'batch');
    const alreadyRevoked = await keyBy(admin.serviceId, dev.userId, 'old');
    await revokeKey(coffer.ctx, alreadyRevoked.key.id, { by: 'test' });
    const adminKey = await keyBy(admin.serviceId, admin.userId, 'admin’s own');
    const elsewhere = await enrolledUser(coffer);
    const otherServiceKey = await keyBy(elsewhere.serviceId, dev.userId, 'not this service');
    assert.equal(await apiStatus(devKey1.token), 200);

    const actor = await authorise(coffer.ctx, admin.session, admin.serviceId, 'team:manage');
    const preview = await previewRemoval(coffer.ctx, actor, dev.userId);
    assert.deepEqual(preview.keys.map((k) => k.id).sort(), [devKey1.key.id, devKey2.key.id].sort());
    assert.equal(preview.email, dev.email);

    // Confirming a different list does nothing.
    await assert.rejects(removeMember(coffer.ctx, actor, dev.userId, [devKey1.key.id]), { code: 'C0409' });
    assert.equal(await apiStatus(devKey1.token), 200);
    assert.ok((await lookupSession(coffer.ctx, dev.token)).ok);

    const result = await removeMember(coffer.ctx, actor, dev.userId, preview.keys.map((k) => k.id));
    assert.deepEqual(result.revokedKeyIds.sort(), [devKey1.key.id, devKey2.key.id].sort());
    assert.equal(result.endedSessions, 1);
    assert.equal(await apiStatus(devKey1.token), 401);
    assert.equal(await apiStatus(devKey2.token), 401);
    assert.equal(await apiStatus(adminKey.token), 200, 'keys created by others stay');
    assert.equal(await apiStatus(otherServiceKey.token), 200, 'removal from one service leaves keys of another');
    assert.equal((await lookupSession(coffer.ctx, dev.token)).ok, false);
    const revoked = await coffer.ctx.db.selectFrom('api_keys').select(['revoked_by', 'revoked_reason']).where('id', '=', devKey1.key.id).executeTakeFirstOrThrow();
    assert.equal(revoked.revoked_by, userActor(admin.userId));
    assert.match(revoked.revoked_reason ?? '', /leaver/);
    // They no longer reach the service, even after signing in again.
    const back = await signIn(coffer, dev);
    await assert.rejects(authorise(coffer.ctx, back.session, admin.serviceId, 'keys:view'), { code: 'C0405' });
  });

  test('the last administrator cannot be removed; members of other services are not found', async () => {
    const admin = await enrolledUser(coffer, { role: 'administrator' });
    const actor = await authorise(coffer.ctx, admin.session, admin.serviceId, 'team:manage');
    await assert.rejects(removeMember(coffer.ctx, actor, admin.userId, []), { code: 'C0409' });
    const stranger = await enrolledUser(coffer);
    await assert.rejects(previewRemoval(coffer.ctx, actor, stranger.userId), { code: 'C0405' });
    await assert.rejects(removeMember(coffer.ctx, actor, stranger.userId, []), { code: 'C0405' });
  });

  test('only an administrator with a recent second factor may remove people', async () => {
    const admin = await enrolledUser(coffer, { role: 'administrator' });
    const viewer = await enrolledUser(coffer, { serviceId: admin.serviceId, role: 'view-and-refund' });
    await assert.rejects(authorise(coffer.ctx, viewer.session, admin.serviceId, 'team:manage'), { code: 'C0602' });
    coffer.clock.advance(6 * 60_000);
    await assert.rejects(authorise(coffer.ctx, await sessionOf(coffer, admin.token), admin.serviceId, 'team:manage'), { code: 'C0603' });
  });
});

describe('leavers: disabling an account', () => {
  test('revokes their keys in every service, ends sessions, forgets devices, refuses sign-in', async () => {
    const user = await enrolledUser(coffer, { role: 'developer' });
    const second = await coffer.newService();
    const invite = await createInvite(coffer.ctx, { email: user.email, serviceId: second, role: 'developer', createdBy: 't' });
    await acceptInviteAsExistingUser(coffer.ctx, invite.link.split('/').at(-1)!, user.session);
    const k1 = await keyBy(user.serviceId, user.userId);
    const k2 = await keyBy(second, user.userId);
    const preview = await previewDisable(coffer.ctx, user.userId);
    assert.deepEqual(preview.keys.map((k) => k.id).sort(), [k1.key.id, k2.key.id].sort());
    await assert.rejects(disableUser(coffer.ctx, user.userId, { by: 'operator:test', reason: 'left', confirmedKeyIds: [] }), { code: 'C0409' });
    const done = await disableUser(coffer.ctx, user.userId, { by: 'operator:test', reason: 'left', confirmedKeyIds: preview.keys.map((k) => k.id) });
    assert.equal(done.revokedKeyIds.length, 2);
    assert.equal(await apiStatus(k1.token), 401);
    assert.equal(await apiStatus(k2.token), 401);
    assert.equal((await lookupSession(coffer.ctx, user.token)).ok, false);
    assert.deepEqual(await signInWithPassword(coffer.ctx, { email: user.email, password: PASSWORD }, client(undefined, user.deviceToken)), { ok: false, reason: 'invalid' });
    const devices = await coffer.ctx.db.selectFrom('console_known_devices').select('revoked_at').where('user_id', '=', user.userId).execute();
    assert.ok(devices.every((d) => d.revoked_at !== null));
  });

  test('the CLI shows the keys first and disables only with the same list', async () => {
    const user = await enrolledUser(coffer, { role: 'developer' });
    const k = await keyBy(user.serviceId, user.userId);
    const preview = (await runOperation(coffer.ctx, 'user.leaver-preview', { email: user.email.toUpperCase() }, 'operator:bob')) as { keys: { id: string }[] };
    assert.deepEqual(preview.keys.map((x) => x.id), [k.key.id]);
    const done = (await runOperation(coffer.ctx, 'user.disable', { email: user.email, confirmedKeyIds: [k.key.id] }, 'operator:bob')) as { revokedKeyIds: string[] };
    assert.deepEqual(done.revokedKeyIds, [k.key.id]);
    assert.equal(await apiStatus(k.token), 401);
  });
});

describe('access review', () => {
  test('lists every member with role, second factors, last sign-in and key count, for this service only', async () => {
    const admin = await enrolledUser(coffer, { role: 'administrator' });
    const dev = await enrolledUser(coffer, { serviceId: admin.serviceId, role: 'developer' });
    await keyBy(admin.serviceId, dev.userId);
    await keyBy(admin.serviceId, dev.userId);
    await enrolledUser(coffer); // someone in another service
    const actor = await authorise(coffer.ctx, admin.session, admin.serviceId, 'team:view');
    const review = await accessReview(coffer.ctx, actor);
    assert.equal(review.users.length, 2);
    const devRow = review.users.find((u) => u.userId === dev.userId)!;
    assert.equal(devRow.role, 'developer');
    assert.equal(devRow.keyCount, 2);
    assert.deepEqual(devRow.mfaMethods, ['authenticator app', 'recovery codes (10 left)']);
    assert.ok(devRow.lastSignInAt);
    assert.equal(review.lastReview, null);
    assert.equal(review.overdue, true);
  });

  test('recording a review keeps a snapshot; the next is due six months later', async () => {
    const admin = await enrolledUser(coffer, { role: 'administrator' });
    const actor = await authorise(coffer.ctx, admin.session, admin.serviceId, 'access-review:record');
    await assert.rejects(recordAccessReview(coffer.ctx, actor, '   '), { code: 'C0422' });
    const recorded = await recordAccessReview(coffer.ctx, actor, 'All current staff; nobody removed.');
    const review = await accessReview(coffer.ctx, actor);
    assert.equal(review.lastReview?.id, recorded.id);
    assert.equal(review.lastReview?.reviewedBy, userActor(admin.userId));
    assert.equal(review.overdue, false);
    assert.equal(new Date(review.nextReviewDue!).getUTCMonth(), (coffer.clock.now().getUTCMonth() + 6) % 12);
    const row = await coffer.ctx.db.selectFrom('console_access_reviews').select('snapshot').where('id', '=', recorded.id).executeTakeFirstOrThrow();
    assert.equal((row.snapshot as unknown[]).length, 1);
    coffer.clock.advance(184 * DAY);
    const later = await signIn(coffer, admin);
    const again = await accessReview(coffer.ctx, await authorise(coffer.ctx, later.session, admin.serviceId, 'team:view'));
    assert.equal(again.overdue, true);
  });

  test('a view-only user cannot record a review', async () => {
    const viewer = await enrolledUser(coffer, { role: 'view-only' });
    await assert.rejects(authorise(coffer.ctx, viewer.session, viewer.serviceId, 'access-review:record'), { code: 'C0602' });
  });
});
