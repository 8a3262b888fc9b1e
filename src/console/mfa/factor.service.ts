// Checking a second factor, for sign-in and for step-up alike: a TOTP code (never the same
// step twice), a recovery code (spent on use) or a passkey assertion (against the challenge
// this session was given, taken once).
import type { AppContext } from '../../platform/context.js';
import type { UserRow } from '../console.tables.js';
import * as sessionRepo from '../sessions/session.repo.js';
import type { ConsoleSession } from '../sessions/session.service.js';
import * as repo from './mfa.repo.js';
import { authenticationOptions, verifyAuthentication, type AuthenticationResponseJSON } from './passkey.js';
import { hashRecoveryCode } from './recovery.js';
import { matchTotp, openTotpSecret } from './totp.js';

export type SecondFactor =
  | { kind: 'totp'; code: string }
  | { kind: 'recovery'; code: string }
  | { kind: 'passkey'; response: AuthenticationResponseJSON };

export type FactorCheck = { ok: true; method: SecondFactor['kind'] } | { ok: false; reason: 'bad-totp' | 'replayed-totp' | 'bad-recovery-code' | 'bad-passkey' | 'no-such-method' };

export async function checkFactor(ctx: AppContext, session: ConsoleSession, user: UserRow, factor: SecondFactor): Promise<FactorCheck> {
  const now = ctx.clock.now();
  switch (factor.kind) {
    case 'totp': {
      if (user.totp_secret_sealed === null) return { ok: false, reason: 'no-such-method' };
      const step = matchTotp(openTotpSecret(ctx, user.id, user.totp_secret_sealed), factor.code, now);
      if (step === undefined) return { ok: false, reason: 'bad-totp' };
      if (!(await repo.useTotpStep(ctx.db, user.id, step))) return { ok: false, reason: 'replayed-totp' };
      return { ok: true, method: 'totp' };
    }
    case 'recovery': {
      if (factor.code.length > 100) return { ok: false, reason: 'bad-recovery-code' };
      const used = await repo.useRecoveryCode(ctx.db, user.id, hashRecoveryCode(factor.code), now);
      return used ? { ok: true, method: 'recovery' } : { ok: false, reason: 'bad-recovery-code' };
    }
    case 'passkey': {
      const challenge = await sessionRepo.takeChallenge(ctx.db, session.id);
      if (challenge === undefined || typeof factor.response?.id !== 'string') return { ok: false, reason: 'bad-passkey' };
      const passkey = await repo.findPasskeyByCredential(ctx.db, user.id, factor.response.id);
      if (!passkey) return { ok: false, reason: 'bad-passkey' };
      const info = await verifyAuthentication(ctx, factor.response, challenge, passkey);
      if (!info) return { ok: false, reason: 'bad-passkey' };
      // Authenticators that keep no counter report 0 every time; a counter that exists must grow.
      const counterOk = info.newCounter === 0 && passkey.counter === 0 ? true : info.newCounter > passkey.counter;
      if (!counterOk) return { ok: false, reason: 'bad-passkey' };
      if (!(await repo.recordPasskeyUse(ctx.db, passkey.id, info.newCounter, passkey.counter, now))) return { ok: false, reason: 'bad-passkey' };
      return { ok: true, method: 'passkey' };
    }
  }
}

/** Options for navigator.credentials.get(); the challenge is kept on the session for one use. */
export async function passkeyChallenge(ctx: AppContext, session: ConsoleSession) {
  const passkeys = await repo.listPasskeys(ctx.db, session.userId);
  const options = await authenticationOptions(ctx, passkeys);
  await sessionRepo.setChallenge(ctx.db, session.id, options.challenge);
  return options;
}

export interface MfaMethods {
  totp: boolean;
  passkeys: { id: string; name: string; createdAt: Date; lastUsedAt: Date | null }[];
  recoveryCodesLeft: number;
}

export async function mfaMethodsOf(ctx: AppContext, user: UserRow): Promise<MfaMethods> {
  const [passkeys, recoveryCodesLeft] = await Promise.all([repo.listPasskeys(ctx.db, user.id), repo.countUnusedRecoveryCodes(ctx.db, user.id)]);
  return {
    totp: user.totp_secret_sealed !== null,
    passkeys: passkeys.map((p) => ({ id: p.id, name: p.name, createdAt: p.created_at, lastUsedAt: p.last_used_at })),
    recoveryCodesLeft,
  };
}

export function hasSecondFactor(methods: MfaMethods): boolean {
  return methods.totp || methods.passkeys.length > 0;
}
