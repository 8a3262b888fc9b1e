// Console sessions: the cookie, the token at rest, idle and absolute timeouts (configurable),
// sign-out, listing and ending sessions, disabling a user, and step-up.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startCoffer, type TestCoffer } from '../support/harness.js';
import {
  clearedSessionCookie,
  endAllOtherSessions,
  endOtherSession,
  listSessions,
  lookupSession,
  requireFullSession,
  requireRecentMfa,
  sessionCookie,
  signOut,
} from '../../src/console/sessions/session.service.js';
import { stepUp } from '../../src/console/identity/signin.service.js';
import { totpCodeAt } from '../../src/console/mfa/totp.js';
import { sha256Hex } from '../../src/platform/hashing.js';
import { loadConfig } from '../../src/main/config.js';
import { DEFAULT_IP, client, enrolledUser, sessionOf, signIn } from './helpers.js';
import { disableUser } from '../../src/console/access/leaver.service.js';

let coffer: TestCoffer;
before(async () => {
  coffer = await startCoffer();
});
after(() => coffer.close());

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

describe('the session token', () => {
  test('a __Host- cookie, Secure, HttpOnly, SameSite=Strict, Path=/ and no Domain', () => {
    const cookie = sessionCookie('abc');
    assert.equal(cookie, '__Host-coffer_session=abc; Path=/; Secure; HttpOnly; SameSite=Strict');
    assert.ok(!/domain=/i.test(cookie));
    assert.match(clearedSessionCookie(), /^__Host-coffer_session=; .*Max-Age=0$/);
  });

  test('256 random bits, stored only as SHA-256', async () => {
    const user = await enrolledUser(coffer);
    assert.equal(Buffer.from(user.token, 'base64url').length, 32);
    const row = await coffer.ctx.db.selectFrom('console_sessions').selectAll().where('id', '=', user.session.id).executeTakeFirstOrThrow();
    assert.equal(row.token_hash, sha256Hex(user.token));
    assert.ok(!JSON.stringify(row).includes(user.token));
  });

  test('unknown, empty and absurd tokens find nothing', async () => {
    for (const token of [undefined, '', 'x', 'y'.repeat(5000)]) assert.equal((await lookupSession(coffer.ctx, token)).ok, false);
    await assert.rejects(requireFullSession(coffer.ctx, 'nope'), { code: 'C0601', status: 401 });
  });
});

describe('timeouts', () => {
  test('15 minutes idle ends the session; activity within them keeps it alive', async () => {
    const user = await enrolledUser(coffer);
    coffer.clock.advance(14 * MINUTE);
    assert.ok((await lookupSession(coffer.ctx, user.token)).ok);
    coffer.clock.advance(14 * MINUTE);
    assert.ok((await lookupSession(coffer.ctx, user.token)).ok);
    coffer.clock.advance(15 * MINUTE);
    assert.deepEqual(await lookupSession(coffer.ctx, user.token), { ok: false, reason: 'idle' });
    assert.deepEqual(await lookupSession(coffer.ctx, user.token), { ok: false, reason: 'unknown' }, 'ended for good');
  });

  test('the idle timeout is configurable', async () => {
    const user = await enrolledUser(coffer);
    coffer.ctx.console = { idleTimeoutMs: 2 * MINUTE };
    try {
      coffer.clock.advance(2 * MINUTE);
      assert.deepEqual(await lookupSession(coffer.ctx, user.token), { ok: false, reason: 'idle' });
    } finally {
      delete coffer.ctx.console;
    }
  });

  test('12 hours after sign-in the session ends however active it is; configurable too', async () => {
    const user = await enrolledUser(coffer);
    for (let elapsed = 0; elapsed < 12 * HOUR - 10 * MINUTE; elapsed += 10 * MINUTE) {
      coffer.clock.advance(10 * MINUTE);
      assert.ok((await lookupSession(coffer.ctx, user.token)).ok, `alive at ${elapsed}`);
    }
    coffer.clock.advance(10 * MINUTE);
    assert.deepEqual(await lookupSession(coffer.ctx, user.token), { ok: false, reason: 'expired' });

    coffer.ctx.console = { absoluteLifetimeMs: HOUR };
    try {
      const short = await signIn(coffer, user);
      const end = short.session.expiresAt.getTime();
      assert.equal(end - short.session.checkedAt.getTime(), HOUR);
      while (coffer.clock.now().getTime() < end - 10 * MINUTE) {
        coffer.clock.advance(10 * MINUTE);
        assert.ok((await lookupSession(coffer.ctx, short.token)).ok);
      }
      coffer.clock.set(new Date(end - 1));
      assert.ok((await lookupSession(coffer.ctx, short.token)).ok);
      coffer.clock.advance(1);
      assert.deepEqual(await lookupSession(coffer.ctx, short.token), { ok: false, reason: 'expired' });
    } finally {
      delete coffer.ctx.console;
    }
  });

  test('configuration: COFFER_CONSOLE_* durations, with PCI ceilings enforced', () => {
    const ok = loadConfig({ COFFER_CONSOLE_IDLE_TIMEOUT: '5m', COFFER_CONSOLE_SESSION_LIFETIME: '8h', COFFER_CONSOLE_DISABLE_INACTIVE_AFTER: '30d' });
    assert.ok(ok.ok);
    assert.deepEqual(ok.config.console, { idleTimeoutMs: 5 * MINUTE, absoluteLifetimeMs: 8 * HOUR, inactiveDisableAfterMs: 30 * 24 * HOUR });
    const defaults = loadConfig({});
    assert.ok(defaults.ok);
    assert.deepEqual(defaults.config.console, { idleTimeoutMs: 15 * MINUTE, absoluteLifetimeMs: 12 * HOUR, inactiveDisableAfterMs: 90 * 24 * HOUR });
    const bad = loadConfig({ COFFER_CONSOLE_IDLE_TIMEOUT: '30m', COFFER_CONSOLE_DISABLE_INACTIVE_AFTER: '120d' });
    assert.ok(!bad.ok);
    assert.ok(bad.problems.some((p) => p.startsWith('COFFER_CONSOLE_IDLE_TIMEOUT')));
    assert.ok(bad.problems.some((p) => p.startsWith('COFFER_CONSOLE_DISABLE_INACTIVE_AFTER')));
  });
});

describe('ending sessions', () => {
  test('sign-out ends the session on the server', async () => {
    const user = await enrolledUser(coffer);
    await signOut(coffer.ctx, await sessionOf(coffer, user.token));
    assert.deepEqual(await lookupSession(coffer.ctx, user.token), { ok: false, reason: 'unknown' });
    const row = await coffer.ctx.db.selectFrom('console_sessions').select(['ended_reason']).where('id', '=', user.session.id).executeTakeFirstOrThrow();
    assert.equal(row.ended_reason, 'signed-out');
  });

  test('a user sees their sessions and ends another one, but not someone else’s', async () => {
    const user = await enrolledUser(coffer);
    const laptop = await signIn(coffer, user, client('203.0.113.7'));
    const list = await listSessions(coffer.ctx, await sessionOf(coffer, user.token));
    assert.deepEqual(list.map((s) => [s.id, s.current]), [[user.session.id, true], [laptop.session.id, false]]);
    assert.equal(list[1]!.ip, '203.0.113.7');

    const stranger = await enrolledUser(coffer);
    await assert.rejects(endOtherSession(coffer.ctx, await sessionOf(coffer, stranger.token), laptop.session.id), { code: 'C0405' });
    assert.ok((await lookupSession(coffer.ctx, laptop.token)).ok);

    await endOtherSession(coffer.ctx, await sessionOf(coffer, user.token), laptop.session.id);
    assert.equal((await lookupSession(coffer.ctx, laptop.token)).ok, false);
    assert.ok((await lookupSession(coffer.ctx, user.token)).ok);
  });

  test('"sign out everywhere else" keeps only the current session', async () => {
    const user = await enrolledUser(coffer);
    const a = await signIn(coffer, user);
    const b = await signIn(coffer, user);
    assert.equal(await endAllOtherSessions(coffer.ctx, await sessionOf(coffer, a.token)), 2);
    assert.ok((await lookupSession(coffer.ctx, a.token)).ok);
    assert.equal((await lookupSession(coffer.ctx, b.token)).ok, false);
    assert.equal((await lookupSession(coffer.ctx, user.token)).ok, false);
  });

  test('disabling a user ends every one of their sessions', async () => {
    const user = await enrolledUser(coffer);
    const other = await signIn(coffer, user);
    const result = await disableUser(coffer.ctx, user.userId, { by: 'operator:test', reason: 'left', confirmedKeyIds: [] });
    assert.equal(result.endedSessions, 2);
    assert.equal((await lookupSession(coffer.ctx, user.token)).ok, false);
    assert.equal((await lookupSession(coffer.ctx, other.token)).ok, false);
  });
});

describe('step-up', () => {
  test('requireRecentMfa passes within 5 minutes of the last factor, then asks again', async () => {
    const user = await enrolledUser(coffer);
    requireRecentMfa(await sessionOf(coffer, user.token), 5 * MINUTE);
    coffer.clock.advance(4 * MINUTE);
    requireRecentMfa(await sessionOf(coffer, user.token), 5 * MINUTE);
    coffer.clock.advance(2 * MINUTE);
    const session = await sessionOf(coffer, user.token);
    assert.throws(() => requireRecentMfa(session, 5 * MINUTE), { code: 'C0603', status: 403 });
    const stepped = await stepUp(coffer.ctx, session, { kind: 'totp', code: totpCodeAt(user.totpSecret, coffer.clock.now()) }, client());
    assert.ok(stepped.ok);
    requireRecentMfa(await sessionOf(coffer, stepped.token), 5 * MINUTE);
    assert.equal((await lookupSession(coffer.ctx, user.token)).ok, false, 'step-up issued a new token');
  });

  test('a wrong factor at step-up fails and is recorded', async () => {
    const user = await enrolledUser(coffer);
    coffer.clock.advance(6 * MINUTE);
    const session = await sessionOf(coffer, user.token);
    assert.deepEqual(await stepUp(coffer.ctx, session, { kind: 'totp', code: '000000' }, client()), { ok: false, reason: 'invalid' });
    const row = await coffer.ctx.db.selectFrom('console_auth_failures').selectAll().where('user_id', '=', user.userId).executeTakeFirstOrThrow();
    assert.equal(row.reason, 'step-up-bad-totp');
    assert.equal(row.ip, DEFAULT_IP);
    assert.throws(() => requireRecentMfa(session), { code: 'C0603' });
  });
});
