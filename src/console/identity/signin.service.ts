// Signing in: a password, then a second factor (or, on first sign-in, enrolling one).
//
// Lockout (PCI DSS 8.3.4) without a lock-out-forever weapon: ten failures (password or second
// factor) lock the account for 30 minutes, and a separate throttle stops an IP address after 30
// failures in 15 minutes. A browser that has completed a full sign-in for the user holds a
// known-device token (`__Host-coffer_device`); from a known device neither the account lock
// nor the IP throttle applies; failures there count against that device alone (ten, and the
// device is forgotten), and a successful sign-in from it lifts the account lock. So an attacker
// can keep an account locked against new browsers, but not against its owner's own.
// Every failure is a row in console_auth_failures, for the throttle and for alerting.
import { recordAudit } from '../../audit/audit.service.js';
import type { Kysely } from 'kysely';
import type { AppContext } from '../../platform/context.js';
import { sha256Hex } from '../../platform/hashing.js';
import { prefixedId, randomToken } from '../../platform/random.js';
import type { Database } from '../../store/schema.js';
import type { KnownDeviceRow, UserRow } from '../console.tables.js';
import { checkFactor, hasSecondFactor, mfaMethodsOf, type SecondFactor } from '../mfa/factor.service.js';
import * as sessionRepo from '../sessions/session.repo.js';
import { createSession, rotateSession, type ConsoleSession } from '../sessions/session.service.js';
import { LIMITS } from '../settings.js';
import { verifyPassword } from './password.js';
import * as repo from './signin.repo.js';
import * as users from './user.repo.js';
import { observeSignInFailure } from '../../alerts/detectors/signin.js';

export const DEVICE_COOKIE = '__Host-coffer_device';

export interface ClientInfo {
  ip: string;
  userAgent: string;
  /** The known-device token from the browser's cookie, if it sent one. */
  deviceToken?: string | undefined;
}

export type SignInFailure = 'invalid' | 'locked' | 'throttled';

export type PasswordOutcome =
  | { ok: true; token: string; session: ConsoleSession; next: 'mfa' | 'enrol' }
  | { ok: false; reason: SignInFailure };

export type FactorOutcome =
  | { ok: true; token: string; session: ConsoleSession; deviceToken?: string }
  | { ok: false; reason: SignInFailure };

async function knownDevice(ctx: AppContext, userId: string, token: string | undefined): Promise<KnownDeviceRow | undefined> {
  if (token === undefined || token.length === 0 || token.length > 100) return undefined;
  return repo.findDevice(ctx.db, userId, sha256Hex(token), ctx.clock.now(), LIMITS.knownDeviceLifetimeMs);
}

function isLocked(user: UserRow, now: Date): boolean {
  return user.locked_until !== null && user.locked_until.getTime() > now.getTime();
}

async function ipThrottled(ctx: AppContext, ip: string, now: Date): Promise<boolean> {
  return (await repo.countFailuresFromIp(ctx.db, ip, new Date(now.getTime() - LIMITS.ipWindowMs))) >= LIMITS.ipMaxFailures;
}

/** Records a failure and counts it against the device (if known) or the account. */
async function fail(
  ctx: AppContext,
  input: { email: string | null; user: UserRow | undefined; device: KnownDeviceRow | undefined; ip: string; reason: string; counts: boolean },
): Promise<{ lockedNow: boolean }> {
  const now = ctx.clock.now();
  await repo.recordFailure(ctx.db, { at: now, email: input.email, userId: input.user?.id ?? null, ip: input.ip, reason: input.reason, knownDevice: input.device !== undefined });
  // The attempted email is not kept for an unknown user: people type passwords into the wrong box.
  await recordAudit(ctx.db, { actor: input.user ? { type: 'user', id: input.user.id } : { type: 'anonymous', id: 'anonymous' }, action: 'console.sign_in', object: input.user ? { type: 'user', id: input.user.id } : undefined, at: now, outcome: 'denied', ip: input.ip, details: { reason: input.reason, known_device: input.device !== undefined } });
  await observeSignInFailure(ctx, { userId: input.user?.id, ip: input.ip, reason: input.reason });
  let lockedNow = false;
  if (input.counts && input.user) {
    if (input.device) await repo.countDeviceFailure(ctx.db, input.device.id, LIMITS.deviceMaxFailures, now);
    else lockedNow = await repo.countAccountFailure(ctx.db, input.user.id, LIMITS.accountMaxFailures, new Date(now.getTime() + LIMITS.accountLockMs));
  }
  ctx.log.warn({ console: 'sign-in-failure', reason: input.reason, userId: input.user?.id, ip: input.ip, knownDevice: input.device !== undefined, lockedNow }, 'console sign-in failed');
  return { lockedNow };
}

/** Step one: email and password. Success gives a session that can only finish signing in. */
export async function signInWithPassword(ctx: AppContext, credentials: { email: string; password: string }, client: ClientInfo): Promise<PasswordOutcome> {
  const now = ctx.clock.now();
  const email = credentials.email.trim().slice(0, 254);
  const user = email.length > 0 ? await users.findUserByEmail(ctx.db, email) : undefined;
  const device = user ? await knownDevice(ctx, user.id, client.deviceToken) : undefined;

  if (!device && (await ipThrottled(ctx, client.ip, now))) {
    await fail(ctx, { email, user, device, ip: client.ip, reason: 'ip-throttled', counts: false });
    return { ok: false, reason: 'throttled' };
  }
  if (user && !device && isLocked(user, now)) {
    await fail(ctx, { email, user, device, ip: client.ip, reason: 'account-locked', counts: false });
    return { ok: false, reason: 'locked' };
  }
  const passwordOk = await verifyPassword(user?.password_hash ?? null, credentials.password);
  if (!user || !passwordOk) {
    const { lockedNow } = await fail(ctx, { email, user, device, ip: client.ip, reason: user ? 'bad-password' : 'unknown-user', counts: true });
    return { ok: false, reason: lockedNow ? 'locked' : 'invalid' };
  }
  if (user.status !== 'active') {
    await fail(ctx, { email, user, device, ip: client.ip, reason: 'user-disabled', counts: false });
    return { ok: false, reason: 'invalid' };
  }
  const next = hasSecondFactor(await mfaMethodsOf(ctx, user)) ? 'mfa' : 'enrol';
  const started = await createSession(ctx.db, ctx, { userId: user.id, stage: next, ip: client.ip, userAgent: client.userAgent, via: 'password' });
  return { ok: true, ...started, next };
}

/** Step two: the second factor. Success swaps the token for that of a full session. */
export async function completeSignIn(ctx: AppContext, session: ConsoleSession, factor: SecondFactor, client: ClientInfo): Promise<FactorOutcome> {
  if (session.stage !== 'mfa') return { ok: false, reason: 'invalid' };
  const now = ctx.clock.now();
  const user = await users.findUserById(ctx.db, session.userId);
  if (!user || user.status !== 'active') {
    await sessionRepo.endSession(ctx.db, session.id, now, 'user-disabled');
    return { ok: false, reason: 'invalid' };
  }
  const device = await knownDevice(ctx, user.id, client.deviceToken);
  if (!device && isLocked(user, now)) {
    await fail(ctx, { email: user.email, user, device, ip: client.ip, reason: 'account-locked', counts: false });
    await sessionRepo.endSession(ctx.db, session.id, now, 'account-locked');
    return { ok: false, reason: 'locked' };
  }
  const check = await checkFactor(ctx, session, user, factor);
  if (!check.ok) {
    const { lockedNow } = await fail(ctx, { email: user.email, user, device, ip: client.ip, reason: check.reason, counts: true });
    if (lockedNow) {
      await sessionRepo.endSession(ctx.db, session.id, now, 'account-locked');
      return { ok: false, reason: 'locked' };
    }
    return { ok: false, reason: 'invalid' };
  }
  return finishSignIn(ctx.db, ctx, session, user.id, client);
}

/**
 * The end of every successful sign-in (password and factor, first enrolment, or OIDC): the
 * session becomes full under a new token, the failure count and any lock are cleared, and the
 * browser is remembered as a known device.
 */
export async function finishSignIn(db: Kysely<Database>, ctx: AppContext, session: ConsoleSession, userId: string, client: ClientInfo): Promise<FactorOutcome & { ok: true }> {
  const now = ctx.clock.now();
  const rotated = await rotateSession(db, ctx, session, { stage: 'full', mfa: true });
  await repo.clearAccountFailures(db, userId, now);
  await recordAudit(db, { actor: { type: 'user', id: userId }, action: 'console.sign_in', object: { type: 'user', id: userId }, at: now, ip: client.ip, details: { via: session.via } });
  const device = await knownDevice(ctx, userId, client.deviceToken);
  if (device) {
    await repo.deviceSucceeded(db, device.id, now);
    return { ok: true, ...rotated };
  }
  const deviceToken = randomToken(32);
  await repo.insertDevice(db, { id: prefixedId('dev'), user_id: userId, token_hash: sha256Hex(deviceToken), created_at: now, last_used_at: now, failed_count: 0, revoked_at: null });
  return { ok: true, ...rotated, deviceToken };
}

/**
 * Step-up: a full session gives its second factor again before a sensitive action. Failures
 * count towards the lockout like any other, so a stolen session cannot guess codes forever.
 */
export async function stepUp(ctx: AppContext, session: ConsoleSession, factor: SecondFactor, client: ClientInfo): Promise<FactorOutcome> {
  if (session.stage !== 'full') return { ok: false, reason: 'invalid' };
  const now = ctx.clock.now();
  const user = await users.findUserById(ctx.db, session.userId);
  if (!user || user.status !== 'active') return { ok: false, reason: 'invalid' };
  const device = await knownDevice(ctx, user.id, client.deviceToken);
  const check = await checkFactor(ctx, session, user, factor);
  if (!check.ok) {
    const { lockedNow } = await fail(ctx, { email: user.email, user, device, ip: client.ip, reason: `step-up-${check.reason}`, counts: true });
    if (lockedNow) {
      await sessionRepo.endSession(ctx.db, session.id, now, 'account-locked');
      return { ok: false, reason: 'locked' };
    }
    return { ok: false, reason: 'invalid' };
  }
  return { ok: true, ...(await rotateSession(ctx.db, ctx, session, { mfa: true })) };
}

/** For the alerting issue: sign-in failures since a time, oldest first. */
export async function signInFailuresSince(ctx: AppContext, since: Date, limit = 1000) {
  return repo.listFailuresSince(ctx.db, since, limit);
}

export function deviceCookie(token: string): string {
  return `${DEVICE_COOKIE}=${token}; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=${Math.floor(LIMITS.knownDeviceLifetimeMs / 1000)}`;
}
