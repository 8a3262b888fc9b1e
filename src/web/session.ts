// Browser sessions for Coffer's pages. The cookie holds 256 random bits; the store holds only
// their SHA-256, so a database dump cannot be replayed as a session. Cookies are `__Host-`
// (Secure, Path=/, no Domain), HttpOnly and SameSite=Strict unless a config says Lax. Nothing
// but the session's identity lives here: domains keep their own rows keyed by the session hash.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../platform/context.js';
import { sha256Hex } from '../platform/hashing.js';
import { randomToken } from '../platform/random.js';
import { deleteSession, findLiveSession, insertSession, touchSession } from './session.repo.js';
import type { SessionPurpose } from './web.tables.js';

export interface SessionConfig {
  /** Without the `__Host-` prefix, which is always added. */
  cookieName: string;
  purpose: SessionPurpose;
  /** A session unused this long ends. */
  idleTimeoutMs: number;
  sameSite: 'strict' | 'lax';
}

export interface WebSession {
  /** SHA-256 of the cookie value: the only form in which the session is stored or referred to. */
  idHash: string;
  purpose: SessionPurpose;
  createdAt: Date;
}

const COOKIE_VALUE = /^[A-Za-z0-9_-]{43}$/;
// Writing last_seen on every request would turn each page view into a write; once a minute is
// precise enough for an idle timeout measured in tens of minutes.
const TOUCH_EVERY_MS = 60_000;

export const cookieNameOf = (config: SessionConfig): string => `__Host-${config.cookieName}`;

/** The session the request's cookie names, if it exists and has not expired. */
export async function loadSession(ctx: AppContext, request: FastifyRequest, config: SessionConfig): Promise<WebSession | undefined> {
  const value = request.cookies[cookieNameOf(config)];
  if (value === undefined || !COOKIE_VALUE.test(value)) return undefined;
  const idHash = sha256Hex(value);
  const now = ctx.clock.now();
  const row = await findLiveSession(ctx.db, idHash, config.purpose, now);
  if (!row) return undefined;
  if (now.getTime() - row.last_seen_at.getTime() > TOUCH_EVERY_MS) {
    await touchSession(ctx.db, idHash, now, new Date(now.getTime() + config.idleTimeoutMs));
  }
  return { idHash, purpose: row.purpose, createdAt: row.created_at };
}

/** Starts a new session and sets its cookie on the reply. */
export async function startSession(ctx: AppContext, reply: FastifyReply, config: SessionConfig): Promise<WebSession> {
  const value = randomToken(32);
  const idHash = sha256Hex(value);
  const now = ctx.clock.now();
  await insertSession(ctx.db, { idHash, purpose: config.purpose, at: now, expiresAt: new Date(now.getTime() + config.idleTimeoutMs) });
  reply.setCookie(cookieNameOf(config), value, cookieOptions(config));
  return { idHash, purpose: config.purpose, createdAt: now };
}

export async function endSession(ctx: AppContext, reply: FastifyReply, session: WebSession, config: SessionConfig): Promise<void> {
  await deleteSession(ctx.db, session.idHash);
  reply.clearCookie(cookieNameOf(config), cookieOptions(config));
}

/** `__Host-` requires Secure, Path=/ and no Domain; a session cookie, gone when the browser closes. */
export function cookieOptions(config: Pick<SessionConfig, 'sameSite'>) {
  return { path: '/', secure: true, httpOnly: true, sameSite: config.sameSite } as const;
}
