// Console sessions (PCI DSS 8.2.8, ASVS 7.x). The browser holds a 256-bit random token in a
// `__Host-` cookie; the server keeps only its SHA-256. A session ends after 15 minutes idle or
// 12 hours in all (configurable), on sign-out, when its user is disabled, or when the user ends
// it from another session. Every sign-in step and every step-up swaps the token (ASVS 7.2.4),
// so a token seen before authentication is worthless after it.
import { changeWithAudit } from '../../audit/audit.service.js';
import type { AuditEntry } from '../../audit/audit.entry.js';
import type { Kysely } from 'kysely';
import type { AppContext } from '../../platform/context.js';
import { notFound } from '../../platform/errors.js';
import { sha256Hex } from '../../platform/hashing.js';
import { prefixedId, randomToken } from '../../platform/random.js';
import type { Database } from '../../store/schema.js';
import type { SessionRow, SessionStage } from '../console.tables.js';
import { consoleErrors } from '../errors.js';
import { consolePolicy, LIMITS } from '../settings.js';
import * as repo from './session.repo.js';

export const SESSION_COOKIE = '__Host-coffer_session';

export interface ConsoleSession {
  id: string;
  userId: string;
  stage: SessionStage;
  createdAt: Date;
  lastSeenAt: Date;
  expiresAt: Date;
  mfaAt: Date | null;
  ip: string;
  userAgent: string;
  via: string;
  /** When this request authenticated the session: the "now" that step-up checks measure from. */
  checkedAt: Date;
  /** The token's hash, needed to rotate it. */
  tokenHash: string;
}

export interface NewSession {
  userId: string;
  stage: SessionStage;
  ip: string;
  userAgent: string;
  via: 'password' | 'oidc' | 'invite';
}

export function newSessionToken(): { token: string; hash: string } {
  const token = randomToken(32);
  return { token, hash: sha256Hex(token) };
}

/** Starts a session; pass the transaction that made the user's state change, if any. */
export async function createSession(db: Kysely<Database>, ctx: AppContext, input: NewSession): Promise<{ token: string; session: ConsoleSession }> {
  const now = ctx.clock.now();
  const { token, hash } = newSessionToken();
  const lifetime = input.stage === 'full' ? consolePolicy(ctx).absoluteLifetimeMs : LIMITS.pendingSignInMs;
  const row: SessionRow = {
    id: prefixedId('ses'),
    token_hash: hash,
    user_id: input.userId,
    stage: input.stage,
    created_at: now,
    last_seen_at: now,
    expires_at: new Date(now.getTime() + lifetime),
    mfa_at: input.stage === 'full' ? now : null,
    ip: input.ip,
    user_agent: input.userAgent.slice(0, 300),
    via: input.via,
    webauthn_challenge: null,
    ended_at: null,
    ended_reason: null,
  };
  await repo.insertSession(db, row);
  return { token, session: toSession(row, now) };
}

function toSession(row: SessionRow, checkedAt: Date): ConsoleSession {
  return {
    id: row.id,
    userId: row.user_id,
    stage: row.stage,
    createdAt: row.created_at,
    lastSeenAt: row.last_seen_at,
    expiresAt: row.expires_at,
    mfaAt: row.mfa_at,
    ip: row.ip,
    userAgent: row.user_agent,
    via: row.via,
    checkedAt,
    tokenHash: row.token_hash,
  };
}

export type SessionLookup = { ok: true; session: ConsoleSession } | { ok: false; reason: 'missing' | 'unknown' | 'idle' | 'expired' | 'user-disabled' };

/**
 * Finds the live session for a token and records the activity. A session found idle, expired
 * or belonging to a disabled user is ended there and then.
 */
export async function lookupSession(ctx: AppContext, token: string | undefined): Promise<SessionLookup> {
  if (token === undefined || token.length === 0 || token.length > 100) return { ok: false, reason: 'missing' };
  const found = await repo.findLiveSessionByHash(ctx.db, sha256Hex(token));
  if (!found) return { ok: false, reason: 'unknown' };
  const { session: row, userStatus } = found;
  const now = ctx.clock.now();
  const ending = userStatus !== 'active'
    ? 'user-disabled'
    : now.getTime() >= row.expires_at.getTime()
      ? 'expired'
      : now.getTime() - row.last_seen_at.getTime() >= consolePolicy(ctx).idleTimeoutMs
        ? 'idle'
        : undefined;
  if (ending) {
    await repo.endSession(ctx.db, row.id, now, ending);
    return { ok: false, reason: ending };
  }
  await repo.touch(ctx.db, row.id, now);
  return { ok: true, session: toSession({ ...row, last_seen_at: now }, now) };
}

/** A fully signed-in session, or the reason to send the user back to sign in. */
export async function requireFullSession(ctx: AppContext, token: string | undefined): Promise<ConsoleSession> {
  const found = await lookupSession(ctx, token);
  if (!found.ok) throw consoleErrors.signInRequired();
  if (found.session.stage !== 'full') throw consoleErrors.mfaRequired();
  return found.session;
}

/**
 * Step-up (ASVS 7.5.3): sensitive actions need a second factor given within `maxAgeMs`
 * (5 minutes by default). Throws the step-up error otherwise; the page then asks for the
 * factor and calls stepUp in the MFA service, which also swaps the token.
 */
export function requireRecentMfa(session: ConsoleSession, maxAgeMs: number = LIMITS.stepUpMaxAgeMs): void {
  if (session.stage !== 'full') throw consoleErrors.mfaRequired();
  if (session.mfaAt === null || session.checkedAt.getTime() - session.mfaAt.getTime() > maxAgeMs) throw consoleErrors.stepUpRequired();
}

export function hasRecentMfa(session: ConsoleSession, maxAgeMs: number = LIMITS.stepUpMaxAgeMs): boolean {
  return session.mfaAt !== null && session.checkedAt.getTime() - session.mfaAt.getTime() <= maxAgeMs;
}

/**
 * Swaps the session's token for a new one, optionally moving it to a new stage and recording
 * the MFA that justified it. The old token stops working in the same statement.
 */
export async function rotateSession(
  db: Kysely<Database>,
  ctx: AppContext,
  session: ConsoleSession,
  changes: { stage?: SessionStage; mfa?: boolean } = {},
): Promise<{ token: string; session: ConsoleSession }> {
  const now = ctx.clock.now();
  const { token, hash } = newSessionToken();
  const promoting = changes.stage === 'full' && session.stage !== 'full';
  const expiresAt = promoting ? new Date(now.getTime() + consolePolicy(ctx).absoluteLifetimeMs) : undefined;
  const ok = await repo.rotate(db, session.id, session.tokenHash, {
    tokenHash: hash,
    at: now,
    ...(changes.stage ? { stage: changes.stage } : {}),
    ...(changes.mfa ? { mfaAt: now } : {}),
    ...(expiresAt ? { expiresAt } : {}),
  });
  if (!ok) throw consoleErrors.signInRequired();
  return {
    token,
    session: {
      ...session,
      tokenHash: hash,
      stage: changes.stage ?? session.stage,
      mfaAt: changes.mfa ? now : session.mfaAt,
      expiresAt: expiresAt ?? session.expiresAt,
      lastSeenAt: now,
      checkedAt: now,
    },
  };
}

/** A session's end, as the audit log records it; the actor is whoever is acting (the user, an administrator, an operator). */
const sessionEnd = (ctx: AppContext, userId: string, reason: string, details: Record<string, unknown>, by?: string): AuditEntry => ({
  ...(by ? { actor: { type: 'user' as const, id: by } } : {}),
  action: 'session.end',
  object: { type: 'user', id: userId },
  at: ctx.clock.now(),
  details: { reason, ...details },
});

export async function signOut(ctx: AppContext, session: ConsoleSession): Promise<void> {
  await changeWithAudit(ctx.db, (trx) => repo.endSession(trx, session.id, ctx.clock.now(), 'signed-out'), (ok) => (ok ? sessionEnd(ctx, session.userId, 'signed-out', { session_id: session.id }, session.userId) : undefined));
}

export interface SessionView {
  id: string;
  current: boolean;
  createdAt: Date;
  lastSeenAt: Date;
  ip: string;
  userAgent: string;
  via: string;
}

/** The user's live sessions (ASVS 7.5.2), this one first. */
export async function listSessions(ctx: AppContext, session: ConsoleSession): Promise<SessionView[]> {
  const rows = await repo.listLiveSessionsOfUser(ctx.db, session.userId);
  return rows
    .map((r) => ({ id: r.id, current: r.id === session.id, createdAt: r.created_at, lastSeenAt: r.last_seen_at, ip: r.ip, userAgent: r.user_agent, via: r.via }))
    .sort((a, b) => Number(b.current) - Number(a.current));
}

/** Ends another of the user's own sessions; someone else's session is not found. */
export async function endOtherSession(ctx: AppContext, session: ConsoleSession, sessionId: string): Promise<void> {
  const target = await repo.findSessionById(ctx.db, sessionId);
  if (!target || target.user_id !== session.userId || target.ended_at !== null) throw notFound();
  await changeWithAudit(ctx.db, (trx) => repo.endSession(trx, sessionId, ctx.clock.now(), 'ended-by-user'), (ok) => (ok ? sessionEnd(ctx, session.userId, 'ended-by-user', { session_id: sessionId }, session.userId) : undefined));
}

export async function endAllOtherSessions(ctx: AppContext, session: ConsoleSession): Promise<number> {
  return changeWithAudit(ctx.db, (trx) => repo.endSessionsOfUser(trx, session.userId, ctx.clock.now(), 'ended-by-user', session.id), (n) => (n > 0 ? sessionEnd(ctx, session.userId, 'ended-by-user', { sessions: n, all_others: true }, session.userId) : undefined));
}

export async function endAllSessionsOfUser(db: Kysely<Database>, ctx: AppContext, userId: string, reason: string): Promise<number> {
  return changeWithAudit(db, (trx) => repo.endSessionsOfUser(trx, userId, ctx.clock.now(), reason), (n) => (n > 0 ? sessionEnd(ctx, userId, reason, { sessions: n }) : undefined));
}

/** Cookie attributes for the session token (ASVS 3.3): the `__Host-` prefix requires Secure, Path=/ and no Domain. */
export function sessionCookie(token: string): string {
  return `${SESSION_COOKIE}=${token}; Path=/; Secure; HttpOnly; SameSite=Strict`;
}

export function clearedSessionCookie(): string {
  return `${SESSION_COOKIE}=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0`;
}
