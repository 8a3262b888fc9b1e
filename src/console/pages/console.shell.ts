// The frame every page about one service's account hangs in: `/console/services/:serviceId/:mode/…`.
// One wrapper, `servicePage`, does the checks in the same order for every such page, on the
// server, before the handler runs:
//   1. a full console session (else to sign-in, MFA or enrolment);
//   2. membership of the service, and the account in that mode exists (else 404: a user of
//      another service learns nothing, not even that the service exists);
//   3. the service's console allow-list for that account (else 403);
//   4. the role's permission (else 403 — hiding a button is never the check);
//   5. a recent second factor for step-up permissions (else to the confirm page and back).
// Every request through it is audited with the user as actor. Page modules register their
// pages with `servicePage(app, kit, spec, handler)` and render with `page.render(view, data)`,
// whose views extend "console-service.njk" and fill `{% block page %}`.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { HttpApp } from '../../http/types.js';
import { consoleAllows } from '../../network/network.service.js';
import { findAccountByServiceAndMode, findServiceById } from '../../services/service.repo.js';
import type { AccountMode } from '../../store/schema.js';
import { PageError } from '../../web/web.plugin.js';
import { findMembership } from '../identity/user.repo.js';
import { can, STEP_UP_PERMISSIONS, type Permission, type Role } from '../identity/roles.js';
import { findUser } from '../identity/user.service.js';
import type { ClientInfo } from '../identity/signin.service.js';
import { hasRecentMfa, type ConsoleSession } from '../sessions/session.service.js';
import type { ConsoleKit, RenderOptions } from './console.kit.js';

export interface ServicePage {
  session: ConsoleSession;
  user: { id: string; email: string };
  service: { id: string; name: string };
  mode: AccountMode;
  accountId: string;
  role: Role;
  can(permission: Permission): boolean;
  /** `/console/services/<id>/<mode>`: prefix for links to this account's pages. */
  base: string;
  /** The same page in the service's other account, when that account exists. */
  otherMode: { mode: AccountMode; href: string } | undefined;
  csrfToken: string;
  client: ClientInfo;
  /** Renders a view extending console-service.njk, with navigation, mode banner and CSRF token. */
  render(view: string, data: Record<string, unknown>, options?: RenderOptions): FastifyReply;
}

type AnyObject = z.ZodType<Record<string, unknown>>;

export interface ServicePageSpec<P extends AnyObject, Q extends AnyObject, B extends AnyObject> {
  method: 'GET' | 'POST';
  /** Relative to the account: '' is the account's home, '/transactions/:paymentId' a detail page. */
  path: string;
  permission: Permission;
  /** Route parameters besides serviceId and mode; a mismatch answers 404. */
  params?: P;
  /** Query string; a mismatch answers 400. */
  query?: Q;
  /** Form fields (the CSRF token is checked and removed before this); a mismatch answers 400. */
  body?: B;
  /**
   * For a POST with a step-up permission: the page (relative, may use the route's params) the
   * user comes back to after confirming, since the form itself is not replayed.
   */
  stepUpReturn?: string;
}

export interface ServicePageInput<P, Q, B> {
  params: P;
  query: Q;
  body: B;
  page: ServicePage;
  request: FastifyRequest;
  reply: FastifyReply;
}

export interface NavItem {
  label: string;
  path: string;
  permission: Permission;
}

/** The service navigation: each item shows only to roles that hold its permission. */
export const SERVICE_NAV: readonly NavItem[] = [
  { label: 'Dashboard', path: '', permission: 'dashboard:view' },
  { label: 'Transactions', path: '/transactions', permission: 'transactions:view' },
  { label: 'API keys', path: '/keys', permission: 'keys:view' },
  { label: 'Webhooks', path: '/webhooks', permission: 'webhooks:view' },
  { label: 'Team', path: '/team', permission: 'team:view' },
  { label: 'Access review', path: '/access-review', permission: 'team:view' },
  { label: 'Settings', path: '/settings', permission: 'settings:view' },
  { label: 'Alerts', path: '/alerts', permission: 'alerts:view' },
  { label: 'Audit log', path: '/audit', permission: 'audit:view' },
];

/** Every service page registered, for the security tests that walk all of them. */
export const SERVICE_PAGES: { method: 'GET' | 'POST'; path: string; permission: Permission }[] = [];

export const SERVICE_PREFIX = '/console/services/:serviceId/:mode';
const baseParams = z.object({ serviceId: z.string().min(1).max(60), mode: z.enum(['test', 'live']) });

/** `/console/services/x/test/refunds/:paymentId` with params filled in (values URI-encoded). */
export function fillPath(path: string, params: Record<string, unknown>): string {
  return path.replace(/:([A-Za-z]+)/g, (_m, name: string) => encodeURIComponent(String(params[name] ?? '')));
}

type NoFields = z.ZodObject<Record<string, never>>;

export function servicePage<P extends AnyObject = NoFields, Q extends AnyObject = NoFields, B extends AnyObject = NoFields>(
  app: HttpApp,
  kit: ConsoleKit,
  spec: ServicePageSpec<P, Q, B>,
  handler: (input: ServicePageInput<z.infer<P>, z.infer<Q>, z.infer<B>>) => Promise<unknown>,
): void {
  const { ctx } = kit;
  SERVICE_PAGES.push({ method: spec.method, path: spec.path, permission: spec.permission });
  const url = SERVICE_PREFIX + spec.path;
  const routeOptions = { config: { auth: 'public' as const, audit: 'always' as const } };

  const run = async (request: FastifyRequest, reply: FastifyReply): Promise<unknown> => {
    const session = await kit.current(request);
    if (!session || session.stage !== 'full') return reply.redirect(kit.placeOf(session), 303);
    request.auditActor = { type: 'user', id: session.userId };

    const rawParams = request.params as Record<string, unknown>;
    const base = baseParams.safeParse(rawParams);
    if (!base.success) throw new PageError('not_found', 404);
    const { serviceId, mode } = base.data;
    const membership = await findMembership(ctx.db, serviceId, session.userId);
    const account = membership ? await findAccountByServiceAndMode(ctx.db, serviceId, mode) : undefined;
    const service = account ? await findServiceById(ctx.db, serviceId) : undefined;
    if (!membership || !account || !service) throw new PageError('not_found', 404);
    if (!(await consoleAllows(ctx, serviceId, mode, request.ip))) throw new PageError('forbidden', 403);
    const role = membership.role as Role;
    const basePath = `/console/services/${encodeURIComponent(serviceId)}/${mode}`;
    if (!can(role, spec.permission)) {
      // The account's home is where links to a service land; a role without the dashboard
      // (developers) is sent to the first page it does have.
      const firstAllowed = SERVICE_NAV.find((item) => item.path !== '' && can(role, item.permission));
      if (spec.method === 'GET' && spec.path === '' && firstAllowed) return reply.redirect(basePath + firstAllowed.path, 303);
      throw new PageError('forbidden', 403);
    }

    const params = (spec.params ?? z.object({})).safeParse(rawParams);
    if (!params.success) throw new PageError('not_found', 404);
    if (STEP_UP_PERMISSIONS.has(spec.permission) && !hasRecentMfa(session)) {
      const back = spec.method === 'GET' ? request.url.split('?')[0]! : basePath + fillPath(spec.stepUpReturn ?? spec.path, rawParams);
      return reply.redirect(`${kit.paths.confirm}?next=${encodeURIComponent(back)}`, 303);
    }
    const query = (spec.query ?? z.object({})).safeParse(request.query ?? {});
    if (!query.success) throw new PageError('bad_request', 400);
    const { csrf_token: _csrf, ...fields } = (request.body ?? {}) as Record<string, unknown>;
    const body = (spec.body ?? z.object({})).safeParse(fields);
    if (!body.success) throw new PageError('bad_request', 400);

    const other: AccountMode = mode === 'test' ? 'live' : 'test';
    const otherAccount = await findAccountByServiceAndMode(ctx.db, serviceId, other);
    const user = await findUser(ctx, session.userId);
    const csrfToken = await kit.formToken(request, reply);
    const nav = SERVICE_NAV.filter((item) => can(role, item.permission)).map((item) => ({
      label: item.label,
      href: basePath + item.path,
      current: spec.path === item.path || (item.path !== '' && spec.path.startsWith(`${item.path}/`)),
    }));
    const page: ServicePage = {
      session,
      user: { id: user.id, email: user.email },
      service: { id: service.id, name: service.name },
      mode,
      accountId: account.id,
      role,
      can: (permission) => can(role, permission),
      base: basePath,
      otherMode: otherAccount ? { mode: other, href: `/console/services/${encodeURIComponent(serviceId)}/${other}` } : undefined,
      csrfToken,
      client: kit.client(request),
      render: (view, data, options) =>
        kit.render(reply, view, { csrfToken, console: { service: page.service, mode, base: basePath, nav, otherMode: page.otherMode, role, userEmail: user.email }, ...data }, options),
    };
    return handler({ params: params.data as z.infer<P>, query: query.data as z.infer<Q>, body: body.data as z.infer<B>, page, request, reply });
  };

  if (spec.method === 'GET') app.get(url, routeOptions, run);
  else app.post(url, routeOptions, run);
}
