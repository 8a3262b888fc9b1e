// Enrolling second factors. MFA is mandatory: a session at the 'enrol' stage (password given,
// no factor yet) can do nothing but this, and confirming the first factor completes the
// sign-in. Changing factors later needs a recent second factor (ASVS 7.5.1), and the last
// factor cannot be removed. Recovery codes are issued with the first factor and on request,
// and are returned only in that one response.
import { changeWithAudit } from '../../audit/audit.service.js';
import type { AuditEntry } from '../../audit/audit.entry.js';
import type { AppContext } from '../../platform/context.js';
import { conflict, notFound, unprocessable } from '../../platform/errors.js';
import { prefixedId } from '../../platform/random.js';
import type { UserRow } from '../console.tables.js';
import { consoleErrors } from '../errors.js';
import { finishSignIn, type ClientInfo } from '../identity/signin.service.js';
import * as users from '../identity/user.repo.js';
import * as sessionRepo from '../sessions/session.repo.js';
import { requireRecentMfa, type ConsoleSession } from '../sessions/session.service.js';
import { hasSecondFactor, mfaMethodsOf } from './factor.service.js';
import * as repo from './mfa.repo.js';
import { registrationOptions, verifyRegistration, type RegistrationResponseJSON } from './passkey.js';
import { hashRecoveryCode, newRecoveryCodes } from './recovery.js';
import { describeEnrolment, matchTotp, newTotpSecret, openTotpSecret, sealTotpSecret, type TotpEnrolment } from './totp.js';

/** Who may change factors: an enrolling session, or a full one with a recent second factor. */
async function enrollingUser(ctx: AppContext, session: ConsoleSession): Promise<UserRow> {
  if (session.stage === 'mfa') throw consoleErrors.mfaRequired();
  if (session.stage === 'full') requireRecentMfa(session);
  const user = await users.findUserById(ctx.db, session.userId);
  if (!user || user.status !== 'active') throw consoleErrors.signInRequired();
  return user;
}

const mfaEntry = (ctx: AppContext, userId: string, action: string, details: Record<string, unknown>): AuditEntry => ({
  actor: { type: 'user', id: userId },
  action,
  object: { type: 'user', id: userId },
  at: ctx.clock.now(),
  details,
});

export interface EnrolmentResult {
  /** Present when this enrolment finished a sign-in: the new session token to set. */
  token?: string;
  session: ConsoleSession;
  deviceToken?: string;
  /** Present when codes were issued now: show them once, they are not kept in clear. */
  recoveryCodes?: string[];
}

async function afterFirstOrNewFactor(ctx: AppContext, session: ConsoleSession, user: UserRow, hadFactor: boolean, client: ClientInfo): Promise<EnrolmentResult> {
  const result: EnrolmentResult = { session };
  if (!hadFactor) {
    const codes = newRecoveryCodes();
    await repo.replaceRecoveryCodes(ctx.db, user.id, codes.map(hashRecoveryCode), ctx.clock.now());
    result.recoveryCodes = codes;
  }
  if (session.stage === 'enrol') {
    const finished = await finishSignIn(ctx.db, ctx, session, user.id, client);
    result.token = finished.token;
    result.session = finished.session;
    if (finished.deviceToken) result.deviceToken = finished.deviceToken;
  }
  return result;
}

export async function startTotpEnrolment(ctx: AppContext, session: ConsoleSession): Promise<TotpEnrolment> {
  const user = await enrollingUser(ctx, session);
  const secret = newTotpSecret();
  await repo.setPendingTotp(ctx.db, user.id, sealTotpSecret(ctx, user.id, secret));
  return describeEnrolment(secret, user.email);
}

/** Shows the pending secret again (the page reloaded, say) without making a new one. */
export async function pendingTotpEnrolment(ctx: AppContext, session: ConsoleSession): Promise<TotpEnrolment | undefined> {
  const user = await enrollingUser(ctx, session);
  if (user.totp_pending_sealed === null) return undefined;
  return describeEnrolment(openTotpSecret(ctx, user.id, user.totp_pending_sealed), user.email);
}

export async function confirmTotpEnrolment(ctx: AppContext, session: ConsoleSession, code: string, client: ClientInfo): Promise<EnrolmentResult> {
  const user = await enrollingUser(ctx, session);
  if (user.totp_pending_sealed === null) throw conflict('Start setting up the authenticator app again');
  const step = matchTotp(openTotpSecret(ctx, user.id, user.totp_pending_sealed), code, ctx.clock.now());
  if (step === undefined) throw consoleErrors.invalidCode();
  const hadFactor = hasSecondFactor(await mfaMethodsOf(ctx, user));
  const pending = user.totp_pending_sealed;
  const confirmed = await changeWithAudit(ctx.db, (trx) => repo.confirmTotp(trx, user.id, pending, step, ctx.clock.now()), (ok) => (ok ? mfaEntry(ctx, user.id, 'console.mfa_enrol', { method: 'totp', first: !hadFactor }) : undefined));
  if (!confirmed) throw conflict('Start setting up the authenticator app again');
  return afterFirstOrNewFactor(ctx, session, user, hadFactor, client);
}

export async function startPasskeyEnrolment(ctx: AppContext, session: ConsoleSession) {
  const user = await enrollingUser(ctx, session);
  const options = await registrationOptions(ctx, user, await repo.listPasskeys(ctx.db, user.id));
  await sessionRepo.setChallenge(ctx.db, session.id, options.challenge);
  return options;
}

export async function confirmPasskeyEnrolment(
  ctx: AppContext,
  session: ConsoleSession,
  input: { response: RegistrationResponseJSON; name: string },
  client: ClientInfo,
): Promise<EnrolmentResult> {
  const user = await enrollingUser(ctx, session);
  const name = input.name.trim() || 'Passkey';
  if (name.length > 100) throw unprocessable('Name must be 100 characters or fewer', 'name');
  const challenge = await sessionRepo.takeChallenge(ctx.db, session.id);
  if (challenge === undefined) throw conflict('Start adding the passkey again');
  const info = await verifyRegistration(ctx, input.response, challenge);
  if (!info) throw unprocessable('The passkey could not be verified. Try again', 'passkey');
  const hadFactor = hasSecondFactor(await mfaMethodsOf(ctx, user));
  const passkeyId = prefixedId('pkey');
  const entry = mfaEntry(ctx, user.id, 'console.mfa_enrol', { method: 'passkey', passkey_id: passkeyId, name, first: !hadFactor });
  await changeWithAudit(ctx.db, (trx) => repo.insertPasskey(trx, {
    id: passkeyId,
    user_id: user.id,
    credential_id: info.credential.id,
    public_key: Buffer.from(info.credential.publicKey).toString('base64url'),
    counter: info.credential.counter,
    transports: info.credential.transports ?? [],
    name,
    created_at: ctx.clock.now(),
    last_used_at: null,
  }), () => entry);
  return afterFirstOrNewFactor(ctx, session, user, hadFactor, client);
}

export async function regenerateRecoveryCodes(ctx: AppContext, session: ConsoleSession): Promise<string[]> {
  if (session.stage !== 'full') throw consoleErrors.mfaRequired();
  const user = await enrollingUser(ctx, session);
  const codes = newRecoveryCodes();
  await changeWithAudit(ctx.db, (trx) => repo.replaceRecoveryCodes(trx, user.id, codes.map(hashRecoveryCode), ctx.clock.now()), () => mfaEntry(ctx, user.id, 'console.mfa_recovery_codes', {}));
  return codes;
}

export async function removePasskey(ctx: AppContext, session: ConsoleSession, passkeyId: string): Promise<void> {
  if (session.stage !== 'full') throw consoleErrors.mfaRequired();
  const user = await enrollingUser(ctx, session);
  const methods = await mfaMethodsOf(ctx, user);
  if (!methods.passkeys.some((p) => p.id === passkeyId)) throw notFound();
  if (!methods.totp && methods.passkeys.length === 1) throw conflict('Add another way to sign in before removing your last one');
  await changeWithAudit(ctx.db, (trx) => repo.deletePasskey(trx, user.id, passkeyId), (ok) => (ok ? mfaEntry(ctx, user.id, 'console.mfa_remove', { method: 'passkey', passkey_id: passkeyId }) : undefined));
}

export async function removeTotp(ctx: AppContext, session: ConsoleSession): Promise<void> {
  if (session.stage !== 'full') throw consoleErrors.mfaRequired();
  const user = await enrollingUser(ctx, session);
  const methods = await mfaMethodsOf(ctx, user);
  if (!methods.totp) throw notFound();
  if (methods.passkeys.length === 0) throw conflict('Add another way to sign in before removing your last one');
  await changeWithAudit(ctx.db, (trx) => repo.removeTotp(trx, user.id), () => mfaEntry(ctx, user.id, 'console.mfa_remove', { method: 'totp' }));
}
