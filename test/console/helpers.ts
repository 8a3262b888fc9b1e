// Shared steps for console tests: make a user through the real invite path, sign them in
// through the real password and TOTP steps, and read what the store holds.
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import type { TestCoffer } from '../support/harness.js';
import { createInvite } from '../../src/console/identity/invite.service.js';
import { acceptInviteAsNewUser } from '../../src/console/identity/invite.service.js';
import { confirmTotpEnrolment, startTotpEnrolment } from '../../src/console/mfa/enrolment.service.js';
import { totpCodeAt } from '../../src/console/mfa/totp.js';
import { signInWithPassword, completeSignIn, type ClientInfo } from '../../src/console/identity/signin.service.js';
import { lookupSession, type ConsoleSession } from '../../src/console/sessions/session.service.js';

let counter = 0;
export const uniqueEmail = (label = 'user'): string => `${label}.${process.pid}.${Date.now()}.${++counter}@example.org`;
export const PASSWORD = 'correct horse battery staple';
// A per-run address: on PostgreSQL the failure log (and so the per-IP throttle) outlives a run.
const runOctets = `${randomInt(256)}.${randomInt(256)}`;
export const DEFAULT_IP = `198.18.${runOctets}`;
export const client = (ip = DEFAULT_IP, deviceToken?: string): ClientInfo => ({ ip, userAgent: 'test-agent', deviceToken });

/** Base32 secret out of the "ABCD EFGH …" text the enrolment shows. */
export const secretOf = (secretText: string): string => secretText.replace(/\s+/g, '');

export interface EnrolledUser {
  userId: string;
  email: string;
  serviceId: string;
  totpSecret: string;
  recoveryCodes: string[];
  /** A full session's token and the known-device token from that first sign-in. */
  token: string;
  deviceToken: string;
  session: ConsoleSession;
}

/** Invite → accept with a password → enrol TOTP: a user with a full session, as a person would. */
export async function enrolledUser(coffer: TestCoffer, options: { serviceId?: string; role?: string; email?: string; ip?: string } = {}): Promise<EnrolledUser> {
  const ctx = coffer.ctx;
  const serviceId = options.serviceId ?? (await coffer.newService());
  const email = options.email ?? uniqueEmail();
  const invite = await createInvite(ctx, { email, serviceId, role: options.role ?? 'administrator', createdBy: 'operator:test' });
  const token = invite.link.split('/').at(-1)!;
  const accepted = await acceptInviteAsNewUser(ctx, token, { password: PASSWORD, ip: options.ip ?? DEFAULT_IP, userAgent: 'test-agent' });
  const enrolment = await startTotpEnrolment(ctx, accepted.session);
  const totpSecret = secretOf(enrolment.secretText);
  const done = await confirmTotpEnrolment(ctx, accepted.session, totpCodeAt(totpSecret, ctx.clock.now()), client(options.ip));
  assert.ok(done.token && done.recoveryCodes && done.deviceToken);
  // The next TOTP step, so tests that sign in again do not trip the replay guard by accident.
  coffer.clock.advance(30_000);
  return { userId: accepted.userId, email, serviceId, totpSecret, recoveryCodes: done.recoveryCodes, token: done.token, deviceToken: done.deviceToken, session: done.session };
}

export async function sessionOf(coffer: TestCoffer, token: string): Promise<ConsoleSession> {
  const found = await lookupSession(coffer.ctx, token);
  assert.ok(found.ok, `session should be live, was ${found.ok ? '' : found.reason}`);
  return found.session;
}

/** A fresh full sign-in with password and the current TOTP code. */
export async function signIn(coffer: TestCoffer, user: EnrolledUser, c: ClientInfo = client()): Promise<{ token: string; session: ConsoleSession }> {
  const first = await signInWithPassword(coffer.ctx, { email: user.email, password: PASSWORD }, c);
  assert.ok(first.ok, `password step failed: ${first.ok ? '' : first.reason}`);
  const second = await completeSignIn(coffer.ctx, first.session, { kind: 'totp', code: totpCodeAt(user.totpSecret, coffer.ctx.clock.now()) }, c);
  assert.ok(second.ok, `MFA step failed: ${second.ok ? '' : second.reason}`);
  coffer.clock.advance(30_000);
  return { token: second.token, session: second.session };
}
