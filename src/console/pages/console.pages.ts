// The console's first pages, on the shared page layer (src/web): templates that escape by
// default, the page CSP with no inline script, SRI assets, CSRF tokens on every form (bound to
// the console's browser session), errors as pages. Authentication is the console session
// (`__Host-coffer_session`), separate from the anonymous browser session the CSRF token rides on.
// Pages: sign-in (password, then second factor), invite acceptance, authenticator-app
// enrolment with recovery codes shown once, a home page listing the user's services, sign-out.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { HttpApp } from '../../http/types.js';
import type { AppContext } from '../../platform/context.js';
import { CofferError } from '../../platform/errors.js';
import { AssetRegistry } from '../../web/assets.js';
import { mergeCatalogues, type Catalogues } from '../../web/i18n.js';
import { webCatalogues } from '../../web/locales.js';
import { besideModule } from '../../web/paths.js';
import { cookieOptions } from '../../web/session.js';
import { PageRenderer, type ScriptInventoryEntry } from '../../web/views.js';
import { registerPages, webAssetSpecs, webViewsDir } from '../../web/web.plugin.js';
import { CONSOLE_BROWSER, CONSOLE_PATHS, createConsoleKit, type FieldErrors } from './console.kit.js';
import { registerServicePages } from './service-pages.js';
import { acceptInviteAsNewUser, viewInvite } from '../identity/invite.service.js';
import { completeSignIn, DEVICE_COOKIE, signInWithPassword, stepUp, type ClientInfo } from '../identity/signin.service.js';
import { findUser, membershipsOf } from '../identity/user.service.js';
import { mfaMethodsOf, passkeyChallenge, type SecondFactor } from '../mfa/factor.service.js';
import { confirmPasskeyEnrolment, confirmTotpEnrolment, pendingTotpEnrolment, startPasskeyEnrolment, startTotpEnrolment } from '../mfa/enrolment.service.js';
import { endAllOtherSessions, endOtherSession, hasRecentMfa, listSessions, signOut, type ConsoleSession } from '../sessions/session.service.js';
import { LIMITS } from '../settings.js';
import { finishOidcSignIn, OIDC_STATE_COOKIE, startOidcSignIn } from '../oidc/oidc.service.js';

function parseJson(text: string | undefined): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

export const CONSOLE_ASSET_PREFIX = '/assets/console';


const consoleMessages: Catalogues = {
  en: { 'errors.summary': 'There is a problem' },
  cy: { 'errors.summary': 'Mae problem wedi codi' },
};

/** Every script a console page may load (PCI DSS 6.4.3's inventory, as for the payment pages). */
export const CONSOLE_SCRIPTS: ScriptInventoryEntry[] = [
  {
    asset: 'console/passkey.js',
    justification: 'Calls the browser WebAuthn API to create or use a passkey; passkeys cannot work without script. Writes no HTML, contacts no other origin.',
    pages: ['console-passkey.njk', 'console-mfa.njk'],
    optional: true,
  },
  {
    asset: 'console/copy-key.js',
    justification: 'Copies a new API key to the clipboard with the Clipboard API (one button). Writes text only, sends nothing, stores nothing.',
    pages: ['keys-created.njk'],
    optional: true,
  },
];

export function consolePageRenderer(): PageRenderer {
  return new PageRenderer({
    viewDirs: [besideModule(import.meta.url, 'views'), webViewsDir()],
    assets: new AssetRegistry([...webAssetSpecs(), { name: 'console/passkey.js', dir: besideModule(import.meta.url, 'assets'), file: 'passkey.js' }, { name: 'console/copy-key.js', dir: besideModule(import.meta.url, 'assets'), file: 'copy-key.js' }], CONSOLE_ASSET_PREFIX),
    catalogues: mergeCatalogues(webCatalogues, consoleMessages),
    stylesheets: ['web/page.css'],
    scriptInventory: CONSOLE_SCRIPTS,
  });
}

const PATHS = CONSOLE_PATHS;


export async function registerConsolePages(app: HttpApp, ctx: AppContext, renderer: PageRenderer = consolePageRenderer()): Promise<void> {
  renderer.assets.registerRoutes(app);
  await registerPages(app, ctx, {
    renderer,
    session: CONSOLE_BROWSER,
    errorView: 'console-error.njk',
    routes: (pages) => consoleRoutes(pages, ctx, renderer),
  });
}

function consoleRoutes(app: HttpApp, ctx: AppContext, renderer: PageRenderer): void {
  const page = { config: { auth: 'public' as const } };

  const kit = createConsoleKit(ctx, renderer);
  const client = (request: FastifyRequest): ClientInfo => kit.client(request);
  const formToken = (request: FastifyRequest, reply: FastifyReply): Promise<string> => kit.formToken(request, reply);
  const setSession = (reply: FastifyReply, token: string) => kit.setSession(reply, token);
  const clearSession = (reply: FastifyReply) => kit.clearSession(reply);
  const setDevice = (reply: FastifyReply, token: string) =>
    reply.setCookie(DEVICE_COOKIE, token, { ...cookieOptions({ sameSite: 'strict' }), maxAge: Math.floor(LIMITS.knownDeviceLifetimeMs / 1000) });
  const current = (request: FastifyRequest): Promise<ConsoleSession | undefined> => kit.current(request);
  const placeOf = (session: ConsoleSession | undefined): string => kit.placeOf(session);
  const render = (reply: FastifyReply, view: string, data: Record<string, unknown>, status = 200, scripts: string[] = []): FastifyReply =>
    kit.render(reply, view, data, { status, scripts });

  /** The MFA page, with a passkey challenge when the user has passkeys. */
  async function mfaPage(request: FastifyRequest, reply: FastifyReply, session: ConsoleSession, errors: FieldErrors = {}, status = 200): Promise<FastifyReply> {
    const user = await findUser(ctx, session.userId);
    const methods = await mfaMethodsOf(ctx, user);
    const passkeyOptions = methods.passkeys.length > 0 ? await passkeyChallenge(ctx, session) : null;
    return render(reply, 'console-mfa.njk', { pageTitle: 'Enter your security code', csrfToken: await formToken(request, reply), passkeyOptions, errors }, status, passkeyOptions ? ['console/passkey.js'] : []);
  }

  // ---- home

  app.get(PATHS.home, page, async (request, reply) => {
    const session = await current(request);
    if (!session || session.stage !== 'full') return reply.redirect(placeOf(session), 303);
    return render(reply, 'console-home.njk', {
      pageTitle: 'Your services',
      memberships: await membershipsOf(ctx, session.userId),
      csrfToken: await formToken(request, reply),
    });
  });

  // ---- sign-in: password

  app.get(PATHS.signIn, page, async (request, reply) => {
    const session = await current(request);
    if (session?.stage === 'full') return reply.redirect(PATHS.home, 303);
    return render(reply, 'console-sign-in.njk', { pageTitle: 'Sign in', email: '', csrfToken: await formToken(request, reply) });
  });

  const signInBody = z.object({ email: z.string().max(320), password: z.string().max(1024), csrf_token: z.string().optional() });
  app.post(PATHS.signIn, { ...page, schema: { body: signInBody } }, async (request, reply) => {
    const outcome = await signInWithPassword(ctx, { email: request.body.email, password: request.body.password }, client(request));
    if (!outcome.ok) {
      const message =
        outcome.reason === 'throttled'
          ? 'Too many sign-in attempts from this network. Wait 15 minutes and try again.'
          : 'Enter a correct email address and password. After 10 wrong attempts an account is locked for 30 minutes.';
      return render(
        reply,
        'console-sign-in.njk',
        { pageTitle: 'Sign in', email: request.body.email, csrfToken: await formToken(request, reply), errors: { email: message } },
        outcome.reason === 'throttled' ? 429 : 401,
      );
    }
    setSession(reply, outcome.token);
    return reply.redirect(outcome.next === 'mfa' ? PATHS.mfa : PATHS.setup, 303);
  });

  // ---- sign-in: second factor

  app.get(PATHS.mfa, page, async (request, reply) => {
    const session = await current(request);
    if (session?.stage !== 'mfa') return reply.redirect(placeOf(session), 303);
    return mfaPage(request, reply, session);
  });

  const mfaBody = z.object({
    code: z.string().max(20).optional(),
    recovery_code: z.string().max(100).optional(),
    webauthn_response: z.string().max(20_000).optional(),
    csrf_token: z.string().optional(),
  });
  app.post(PATHS.mfa, { ...page, schema: { body: mfaBody } }, async (request, reply) => {
    const session = await current(request);
    if (session?.stage !== 'mfa') return reply.redirect(placeOf(session), 303);
    const recovery = request.body.recovery_code?.trim();
    const passkey = parseJson(request.body.webauthn_response);
    const factor: SecondFactor = passkey
      ? { kind: 'passkey', response: passkey as never }
      : recovery
        ? { kind: 'recovery', code: recovery }
        : { kind: 'totp', code: request.body.code ?? '' };
    const outcome = await completeSignIn(ctx, session, factor, client(request));
    if (!outcome.ok) {
      if (outcome.reason === 'locked') {
        clearSession(reply);
        return render(reply, 'console-sign-in.njk', {
          pageTitle: 'Sign in',
          email: '',
          csrfToken: await formToken(request, reply),
          errors: { email: 'Too many wrong attempts: the account is locked for 30 minutes.' },
        }, 401);
      }
      const field = recovery ? 'recovery_code' : 'code';
      return mfaPage(request, reply, session, { [field]: passkey ? 'The passkey could not be used. Try again, or enter a code.' : 'The code is not right. Enter the current code from your authenticator app, or an unused recovery code.' }, 401);
    }
    setSession(reply, outcome.token);
    if (outcome.deviceToken) setDevice(reply, outcome.deviceToken);
    return reply.redirect(PATHS.home, 303);
  });

  // ---- invites

  const inviteParams = z.object({ token: z.string().max(200) });
  app.get('/console/invite/:token', { ...page, schema: { params: inviteParams } }, async (request, reply) => {
    let invite;
    try {
      invite = await viewInvite(ctx, request.params.token);
    } catch (err) {
      if (err instanceof CofferError) return render(reply, 'console-invite-invalid.njk', { pageTitle: 'This invitation link does not work' }, err.status);
      throw err;
    }
    return render(reply, 'console-invite.njk', { pageTitle: 'Create your account', invite, action: request.url, csrfToken: await formToken(request, reply) });
  });

  const inviteBody = z.object({ password: z.string().max(1024), confirm: z.string().max(1024), csrf_token: z.string().optional() });
  app.post('/console/invite/:token', { ...page, schema: { params: inviteParams, body: inviteBody } }, async (request, reply) => {
    let invite;
    try {
      invite = await viewInvite(ctx, request.params.token);
    } catch (err) {
      if (err instanceof CofferError) return render(reply, 'console-invite-invalid.njk', { pageTitle: 'This invitation link does not work' }, err.status);
      throw err;
    }
    const again = async (errors: FieldErrors, status: number) =>
      render(reply, 'console-invite.njk', { pageTitle: 'Create your account', invite, action: request.url, csrfToken: await formToken(request, reply), errors }, status);
    if (request.body.password !== request.body.confirm) return again({ confirm: 'The passwords do not match' }, 422);
    try {
      const accepted = await acceptInviteAsNewUser(ctx, request.params.token, { password: request.body.password, ...client(request) });
      setSession(reply, accepted.token);
      return reply.redirect(PATHS.setup, 303);
    } catch (err) {
      if (err instanceof CofferError && err.status === 422) return again({ password: err.message }, 422);
      if (err instanceof CofferError && err.status === 409) return again({ password: err.message }, 409);
      throw err;
    }
  });

  // ---- authenticator app enrolment

  app.get(PATHS.setup, page, async (request, reply) => {
    const session = await current(request);
    if (!session || session.stage === 'mfa') return reply.redirect(placeOf(session), 303);
    if (session.stage === 'full' && (session.mfaAt === null || session.checkedAt.getTime() - session.mfaAt.getTime() > LIMITS.stepUpMaxAgeMs)) {
      return reply.redirect(PATHS.home, 303);
    }
    const enrolment = (await pendingTotpEnrolment(ctx, session)) ?? (await startTotpEnrolment(ctx, session));
    return render(reply, 'console-totp-setup.njk', { pageTitle: 'Set up your authenticator app', enrolment, csrfToken: await formToken(request, reply) });
  });

  app.post(PATHS.setup, { ...page, schema: { body: z.object({ code: z.string().max(20), csrf_token: z.string().optional() }) } }, async (request, reply) => {
    const session = await current(request);
    if (!session || session.stage === 'mfa') return reply.redirect(placeOf(session), 303);
    try {
      const done = await confirmTotpEnrolment(ctx, session, request.body.code, client(request));
      if (done.token) setSession(reply, done.token);
      if (done.deviceToken) setDevice(reply, done.deviceToken);
      if (done.recoveryCodes) {
        return render(reply, 'console-recovery-codes.njk', { pageTitle: 'Save your recovery codes', codes: done.recoveryCodes });
      }
      return reply.redirect(PATHS.home, 303);
    } catch (err) {
      if (!(err instanceof CofferError) || err.status >= 500 || err.status === 401) throw err;
      const enrolment = await pendingTotpEnrolment(ctx, session);
      if (!enrolment) return reply.redirect(PATHS.setup, 303);
      return render(reply, 'console-totp-setup.njk', {
        pageTitle: 'Set up your authenticator app',
        enrolment,
        csrfToken: await formToken(request, reply),
        errors: { code: 'The code is not right. Enter the 6-digit code your app shows now.' },
      }, 422);
    }
  });

  // ---- sign-in through an organisation's identity provider. Each provider has its own start
  // link (/console/sign-in/oidc/<id>), which an organisation gives its staff; the public sign-in
  // page does not list providers, so it does not name the organisations using Coffer.

  app.get('/console/sign-in/oidc/:providerId', { ...page, schema: { params: z.object({ providerId: z.string().max(60) }) } }, async (request, reply) => {
    const started = await startOidcSignIn(ctx, request.params.providerId);
    // Lax: the provider sends the browser back cross-site, and a Strict cookie would stay behind.
    reply.setCookie(OIDC_STATE_COOKIE, started.state, { ...cookieOptions({ sameSite: 'lax' }), maxAge: Math.floor(LIMITS.oidcFlowMs / 1000) });
    return reply.redirect(started.url, 303);
  });

  app.get('/console/sign-in/oidc/callback', page, async (request, reply) => {
    const state = request.cookies[OIDC_STATE_COOKIE];
    reply.clearCookie(OIDC_STATE_COOKIE, cookieOptions({ sameSite: 'lax' }));
    const outcome = await finishOidcSignIn(ctx, state, new URL(request.url, ctx.baseUrl), client(request));
    if (!outcome.ok) {
      const message =
        outcome.reason === 'not-invited' || outcome.reason === 'domain-not-allowed'
          ? 'Your organisation’s sign-in worked, but this account has not been given access to the Coffer console. Ask an administrator to invite you.'
          : 'Signing in through your organisation did not work. Try again, or sign in with your email address and password.';
      return render(reply, 'console-sign-in.njk', { pageTitle: 'Sign in', email: '', csrfToken: await formToken(request, reply), errors: { email: message } }, 401);
    }
    setSession(reply, outcome.token);
    return reply.redirect(outcome.next === 'mfa' ? PATHS.mfa : PATHS.setup, 303);
  });

  // ---- passkey enrolment (instead of, or as well as, the authenticator app)

  app.get(PATHS.passkey, page, async (request, reply) => {
    const session = await current(request);
    if (!session || session.stage === 'mfa') return reply.redirect(placeOf(session), 303);
    if (session.stage === 'full' && (session.mfaAt === null || session.checkedAt.getTime() - session.mfaAt.getTime() > LIMITS.stepUpMaxAgeMs)) {
      return reply.redirect(PATHS.home, 303);
    }
    const options = await startPasskeyEnrolment(ctx, session);
    return render(reply, 'console-passkey.njk', { pageTitle: 'Add a passkey', options, csrfToken: await formToken(request, reply) }, 200, ['console/passkey.js']);
  });

  const passkeyBody = z.object({ name: z.string().max(200), webauthn_response: z.string().max(20_000), csrf_token: z.string().optional() });
  app.post(PATHS.passkey, { ...page, schema: { body: passkeyBody } }, async (request, reply) => {
    const session = await current(request);
    if (!session || session.stage === 'mfa') return reply.redirect(placeOf(session), 303);
    const response = parseJson(request.body.webauthn_response);
    try {
      if (!response) throw new CofferError('C0422', 422, 'The passkey was not created. Try again.');
      const done = await confirmPasskeyEnrolment(ctx, session, { response: response as never, name: request.body.name }, client(request));
      if (done.token) setSession(reply, done.token);
      if (done.deviceToken) setDevice(reply, done.deviceToken);
      if (done.recoveryCodes) return render(reply, 'console-recovery-codes.njk', { pageTitle: 'Save your recovery codes', codes: done.recoveryCodes });
      return reply.redirect(PATHS.home, 303);
    } catch (err) {
      if (!(err instanceof CofferError) || err.status >= 500 || err.status === 401) throw err;
      const options = await startPasskeyEnrolment(ctx, session);
      return render(reply, 'console-passkey.njk', { pageTitle: 'Add a passkey', options, csrfToken: await formToken(request, reply), errors: { name: err.message } }, 422, ['console/passkey.js']);
    }
  });

  // ---- the user's own sessions (ASVS 7.5.2)

  async function fullSession(request: FastifyRequest, reply: FastifyReply): Promise<ConsoleSession | FastifyReply> {
    const session = await current(request);
    if (!session || session.stage !== 'full') return reply.redirect(placeOf(session), 303);
    return session;
  }
  const isReply = (value: ConsoleSession | FastifyReply): value is FastifyReply => !('userId' in value);

  app.get(PATHS.sessions, page, async (request, reply) => {
    const session = await fullSession(request, reply);
    if (isReply(session)) return session;
    return render(reply, 'console-sessions.njk', { pageTitle: 'Where you are signed in', sessions: await listSessions(ctx, session), csrfToken: await formToken(request, reply) });
  });

  app.post(`${PATHS.sessions}/:sessionId/end`, { ...page, schema: { params: z.object({ sessionId: z.string().max(60) }), body: z.object({ csrf_token: z.string().optional() }) } }, async (request, reply) => {
    const session = await fullSession(request, reply);
    if (isReply(session)) return session;
    await endOtherSession(ctx, session, request.params.sessionId);
    return reply.redirect(PATHS.sessions, 303);
  });

  app.post(`${PATHS.sessions}/end-others`, { ...page, schema: { body: z.object({ csrf_token: z.string().optional() }) } }, async (request, reply) => {
    const session = await fullSession(request, reply);
    if (isReply(session)) return session;
    await endAllOtherSessions(ctx, session);
    return reply.redirect(PATHS.sessions, 303);
  });

  // ---- step-up: sensitive pages send the user here when their last second factor is over
  // 5 minutes old, with the page to return to. Only console paths are accepted as `next`.

  const safeNext = (next: unknown): string =>
    typeof next === 'string' && (next === PATHS.home || next.startsWith(`${PATHS.home}/`)) && /^[A-Za-z0-9_/-]+$/.test(next) && !next.includes('//') ? next : PATHS.home;

  app.get(PATHS.confirm, { ...page, schema: { querystring: z.object({ next: z.string().max(200).optional() }) } }, async (request, reply) => {
    const session = await fullSession(request, reply);
    if (isReply(session)) return session;
    const next = safeNext(request.query.next);
    if (hasRecentMfa(session)) return reply.redirect(next, 303);
    return render(reply, 'console-confirm.njk', { pageTitle: 'Confirm it is you', next, csrfToken: await formToken(request, reply) });
  });

  app.post(PATHS.confirm, { ...page, schema: { body: z.object({ code: z.string().max(100), next: z.string().max(200).optional(), csrf_token: z.string().optional() }) } }, async (request, reply) => {
    const session = await fullSession(request, reply);
    if (isReply(session)) return session;
    const next = safeNext(request.body.next);
    const code = request.body.code.trim();
    const factor: SecondFactor = /^\d{6}$/.test(code.replace(/\s/g, '')) ? { kind: 'totp', code } : { kind: 'recovery', code };
    const outcome = await stepUp(ctx, session, factor, client(request));
    if (!outcome.ok) {
      if (outcome.reason === 'locked') {
        clearSession(reply);
        return reply.redirect(PATHS.signIn, 303);
      }
      return render(reply, 'console-confirm.njk', { pageTitle: 'Confirm it is you', next, csrfToken: await formToken(request, reply), errors: { code: 'The code is not right' } }, 401);
    }
    setSession(reply, outcome.token);
    return reply.redirect(next, 303);
  });

  // ---- sign-out

  app.post(PATHS.signOut, { ...page, schema: { body: z.object({ csrf_token: z.string().optional() }) } }, async (request, reply) => {
    const session = await current(request);
    if (session) await signOut(ctx, session);
    clearSession(reply);
    return reply.redirect(PATHS.signIn, 303);
  });

  registerServicePages(app, kit);
}
