// What every console page handler shares: the console's paths, the signed-in session from the
// cookie, the CSRF token for forms, the client's address, and rendering with the console's
// common data. Built once per server by console.pages.ts and handed to every page module.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../../platform/context.js';
import { cookieOptions, startSession, type SessionConfig } from '../../web/session.js';
import type { PageRenderer } from '../../web/views.js';
import { csrfToken } from '../../web/web.plugin.js';
import { DEVICE_COOKIE, type ClientInfo } from '../identity/signin.service.js';
import { lookupSession, SESSION_COOKIE, type ConsoleSession } from '../sessions/session.service.js';

export const CONSOLE_PATHS = {
  home: '/console',
  signIn: '/console/sign-in',
  mfa: '/console/sign-in/mfa',
  setup: '/console/mfa/setup',
  passkey: '/console/mfa/passkey',
  sessions: '/console/account/sessions',
  confirm: '/console/confirm',
  signOut: '/console/sign-out',
} as const;

/** The anonymous browser session that CSRF tokens are bound to (not the sign-in itself). */
export const CONSOLE_BROWSER: SessionConfig = { cookieName: 'coffer_console', purpose: 'console', idleTimeoutMs: 12 * 60 * 60_000, sameSite: 'strict' };

export type FieldErrors = Record<string, string>;

export interface RenderOptions {
  status?: number;
  /** Inventoried console scripts (CONSOLE_SCRIPTS) this page loads. */
  scripts?: string[];
}

export interface ConsoleKit {
  ctx: AppContext;
  renderer: PageRenderer;
  paths: typeof CONSOLE_PATHS;
  /** The console session the cookie names, if it is live (idle and absolute limits applied). */
  current(request: FastifyRequest): Promise<ConsoleSession | undefined>;
  /** Where a session at each stage belongs (sign-in, MFA, enrolment or home). */
  placeOf(session: ConsoleSession | undefined): string;
  /** The CSRF token for this page's forms, starting the browser session if there is none. */
  formToken(request: FastifyRequest, reply: FastifyReply): Promise<string>;
  client(request: FastifyRequest): ClientInfo;
  setSession(reply: FastifyReply, token: string): void;
  clearSession(reply: FastifyReply): void;
  /** Renders a console view with the data every console page has (paths, error summary). */
  render(reply: FastifyReply, view: string, data: Record<string, unknown>, options?: RenderOptions): FastifyReply;
}

export function createConsoleKit(ctx: AppContext, renderer: PageRenderer): ConsoleKit {
  return {
    ctx,
    renderer,
    paths: CONSOLE_PATHS,
    async current(request) {
      const found = await lookupSession(ctx, request.cookies[SESSION_COOKIE]);
      return found.ok ? found.session : undefined;
    },
    placeOf(session) {
      if (session === undefined) return CONSOLE_PATHS.signIn;
      return session.stage === 'enrol' ? CONSOLE_PATHS.setup : session.stage === 'mfa' ? CONSOLE_PATHS.mfa : CONSOLE_PATHS.home;
    },
    async formToken(request, reply) {
      if (!request.webSession) request.webSession = await startSession(ctx, reply, CONSOLE_BROWSER);
      return csrfToken(ctx, request);
    },
    client(request) {
      return { ip: request.ip, userAgent: String(request.headers['user-agent'] ?? '').slice(0, 300), deviceToken: request.cookies[DEVICE_COOKIE] };
    },
    setSession(reply, token) {
      reply.setCookie(SESSION_COOKIE, token, cookieOptions({ sameSite: 'strict' }));
    },
    clearSession(reply) {
      reply.clearCookie(SESSION_COOKIE, cookieOptions({ sameSite: 'strict' }));
    },
    render(reply, view, data, options = {}) {
      const errors = (data.errors ?? {}) as FieldErrors;
      const errorList = Object.entries(errors).map(([field, text]) => ({ field, text }));
      return renderer.send(reply, {
        view,
        lang: 'en',
        status: options.status ?? 200,
        scripts: options.scripts ?? [],
        data: { serviceName: 'Coffer console', testMode: false, errors, errorList, paths: CONSOLE_PATHS, ...data },
      });
    },
  };
}
