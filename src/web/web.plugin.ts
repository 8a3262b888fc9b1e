// The page side of Coffer, as one encapsulated Fastify context per set of pages (payment pages
// now, the console later): form and cookie parsing only here (the JSON API keeps refusing form
// bodies), the browser session loaded before every handler, a CSRF check on every POST unless
// the route declares itself an entry point, and failures rendered as HTML pages that keep the
// page CSP and never echo what was posted.
import formbody from '@fastify/formbody';
import cookie from '@fastify/cookie';
import type { FastifyError, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import type { HttpApp } from '../http/types.js';
import type { AppContext } from '../platform/context.js';
import { CofferError } from '../platform/errors.js';
import { csrfTokenFor, csrfTokenMatches, CSRF_FIELD, originAllowed } from './csrf.js';
import type { Lang } from './i18n.js';
import { loadSession, type SessionConfig, type WebSession } from './session.js';
import type { PageRenderer } from './views.js';
import type { AssetSpec } from './assets.js';
import { besideModule } from './paths.js';
import { pageCsp } from './csp.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** `entry`: a POST that starts a journey (no session yet), checked by its own secret. */
    csrf?: 'entry';
  }
  interface FastifyRequest {
    /** The browser session of a page request, when the cookie names a live one. */
    webSession: WebSession | undefined;
    /** The language to render an error page in, once the handler knows it. */
    pageLang: Lang;
  }
}

export interface PagesOptions {
  renderer: PageRenderer;
  session: SessionConfig;
  /** The view for error pages; it receives `status`, `kind` and `requestId`. */
  errorView: string;
  /** Form bodies are small: a card form is well under 4 KiB. */
  bodyLimit?: number;
  routes(pages: HttpApp): void;
}

/** A page-level refusal: renders the error view with this kind and status. */
export class PageError extends Error {
  constructor(
    readonly kind: 'not_found' | 'session_expired' | 'forbidden' | 'bad_request' | 'too_many',
    readonly status: number,
  ) {
    super(kind);
    this.name = 'PageError';
  }
}

export async function registerPages(app: HttpApp, ctx: AppContext, options: PagesOptions): Promise<void> {
  await app.register(async (pages: HttpApp) => {
    await pages.register(formbody, { bodyLimit: options.bodyLimit ?? 16 * 1024 });
    await pages.register(cookie, { parseOptions: {} });
    pages.decorateRequest('webSession', undefined);
    pages.decorateRequest('pageLang', 'en');
    // Redirects and anything else not rendered still carry the page policy, not the API's.
    pages.addHook('onRequest', async (_request, reply) => {
      reply.header('Content-Security-Policy', pageCsp());
    });

    pages.addHook('preHandler', async (request) => {
      request.webSession = await loadSession(ctx, request, options.session);
      if (request.method !== 'POST' || request.routeOptions.config.csrf === 'entry') return;
      if (!originAllowed(request, ctx.baseUrl)) throw new PageError('forbidden', 403);
      if (!request.webSession) throw new PageError('session_expired', 403);
      const body = request.body as Record<string, unknown> | undefined;
      if (!csrfTokenMatches(ctx, request.webSession, body?.[CSRF_FIELD])) throw new PageError('forbidden', 403);
    });

    pages.setErrorHandler((error: FastifyError, request, reply) => {
      const { kind, status } = classify(error);
      if (status >= 500) request.log.error({ err: error }, 'page failed');
      else request.log.info({ kind, status }, 'page refused');
      return options.renderer.send(reply, {
        view: options.errorView,
        lang: request.pageLang,
        status,
        data: { kind, status, requestId: request.id },
      });
    });

    options.routes(pages);
  });
}

/** The CSRF token for forms on a page of this session. */
export function csrfToken(ctx: AppContext, request: FastifyRequest): string {
  if (!request.webSession) throw new TypeError('a form needs a session');
  return csrfTokenFor(ctx, request.webSession);
}

function classify(error: FastifyError): { kind: string; status: number } {
  if (error instanceof PageError) return { kind: error.kind, status: error.status };
  if (error instanceof CofferError) return { kind: error.status === 404 ? 'not_found' : error.status < 500 ? 'bad_request' : 'error', status: error.status };
  if (hasZodFastifySchemaValidationErrors(error)) return { kind: 'bad_request', status: 400 };
  if (typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500) {
    return { kind: 'bad_request', status: error.statusCode };
  }
  return { kind: 'error', status: 500 };
}

/** The shared stylesheet (and anything else every set of pages loads). */
export function webAssetSpecs(): AssetSpec[] {
  return [{ name: 'web/page.css', dir: besideModule(import.meta.url, 'assets'), file: 'page.css' }];
}

/** The shared templates: layout, macros, error page. */
export function webViewsDir(): string {
  return besideModule(import.meta.url, 'views');
}
