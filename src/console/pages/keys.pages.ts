// Console pages for the account's API keys: the list (never a secret: the first and last few
// characters only), create (the key shown once, on the response to the form, and never again),
// revoke after a confirmation page, and roll with an overlap during which both keys work.
// A key made here is created by `user:<id>`, the name the leavers process looks for, so removing
// or disabling the person finds and revokes it. The key service records each change's audit entry.
// Registered by service-pages.ts; each page goes through servicePage() in console.shell.ts,
// which does the session, service, allow-list, role and step-up checks before the handler runs.
import { z } from 'zod';
import type { HttpApp } from '../../http/types.js';
import { CofferError } from '../../platform/errors.js';
import { createKey, getKeyForAccount, listKeysForAccount, revokeKey, rollKey, type KeyView } from '../../keys/key.service.js';
import { DEFAULT_SCOPES, isScope, SCOPES, type Scope } from '../../keys/scopes.js';
import { PageError } from '../../web/web.plugin.js';
import { findUserById } from '../identity/user.repo.js';
import { userActor } from '../access/leaver.service.js';
import type { ConsoleKit, FieldErrors } from './console.kit.js';
import { servicePage, type ServicePage } from './console.shell.js';

const SCOPE_LABELS: Record<Scope, string> = {
  'payments:read': 'See payments',
  'payments:write': 'Create, capture and cancel payments',
  'refunds:read': 'See refunds',
  'refunds:write': 'Refund payments',
  'agreements:read': 'See recurring payment agreements',
  'agreements:write': 'Set up and cancel agreements',
  'payouts:read': 'See payouts',
  'payouts:write': 'Request payouts',
  'webhooks:read': 'See webhook endpoints',
  'webhooks:write': 'Manage webhook endpoints',
  'keys:read': 'See API keys',
  'keys:write': 'Create, roll and revoke API keys',
  'audit:read': 'Read the audit log',
};

const DAY_MS = 86_400_000;
/** Lifetimes offered for a new key. */
const EXPIRY_CHOICES = [
  { value: 'never', label: 'Does not expire', ms: undefined },
  { value: '30', label: 'In 30 days', ms: 30 * DAY_MS },
  { value: '90', label: 'In 90 days', ms: 90 * DAY_MS },
  { value: '365', label: 'In a year', ms: 365 * DAY_MS },
] as const;

/** How long the old key keeps working after a roll; 24 hours unless the user picks otherwise. */
const OVERLAP_CHOICES = [
  { value: '0', label: 'Stop the old key now', ms: 0 },
  { value: '1h', label: '1 hour', ms: 3_600_000 },
  { value: '24h', label: '24 hours', ms: DAY_MS },
  { value: '7d', label: '7 days', ms: 7 * DAY_MS },
] as const;
const DEFAULT_OVERLAP = '24h';

const STATUS_TAGS: Record<KeyView['status'], { text: string; modifier: string }> = {
  active: { text: 'Active', modifier: 'tag--green' },
  expiring: { text: 'Rolled: stops soon', modifier: '' },
  expired: { text: 'Expired', modifier: 'tag--red' },
  revoked: { text: 'Revoked', modifier: 'tag--red' },
};

const keyParams = z.object({ keyId: z.string().min(1).max(60) });
// Forms are accepted loosely and checked here, so the user sees field errors, not a 400.
const text = z.string().max(2000).optional();
const createBody = z.object({ name: text, scopes: z.union([z.string(), z.array(z.string().max(100)).max(50)]).optional(), expires: text });
const revokeBody = z.object({ reason: text });
const rollBody = z.object({ overlap: text });

export function formatUtc(iso: string | null): string | null {
  if (iso === null) return null;
  const at = new Date(iso);
  const date = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' }).format(at);
  const time = new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZone: 'UTC' }).format(at);
  return `${date}, ${time} UTC`;
}

/** Who made a key, as people know each other: a user's email, an operator's name, a key's id. */
async function creatorNames(kit: ConsoleKit, keys: readonly KeyView[]): Promise<Map<string, string>> {
  const names = new Map<string, string>();
  for (const by of new Set(keys.map((k) => k.created_by))) {
    if (by.startsWith('user:')) {
      const user = await findUserById(kit.ctx.db, by.slice('user:'.length));
      names.set(by, user ? user.email : 'a former team member');
    } else if (by.startsWith('operator:')) names.set(by, `Operator ${by.slice('operator:'.length)}`);
    else if (by.startsWith('key_')) names.set(by, `API key ${by}`);
    else names.set(by, by);
  }
  return names;
}

function rowOf(key: KeyView, creators: Map<string, string>, page: ServicePage) {
  const manageable = page.can('keys:manage') && (key.status === 'active' || key.status === 'expiring');
  return {
    id: key.id,
    name: key.name,
    display: key.display,
    scopes: key.scopes,
    createdBy: creators.get(key.created_by) ?? key.created_by,
    createdAt: formatUtc(key.created_at),
    lastUsedAt: formatUtc(key.last_used_at),
    expiresAt: formatUtc(key.expires_at),
    revokedAt: formatUtc(key.revoked_at),
    status: STATUS_TAGS[key.status],
    canRevoke: manageable,
    canRoll: manageable && key.status === 'active',
  };
}

async function keyOr404(kit: ConsoleKit, page: ServicePage, keyId: string): Promise<KeyView> {
  try {
    return await getKeyForAccount(kit.ctx, page.accountId, keyId);
  } catch (err) {
    if (err instanceof CofferError && err.status === 404) throw new PageError('not_found', 404);
    throw err;
  }
}

const asList = (value: string | string[] | undefined): string[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);

function scopeChoices(checked: readonly string[]) {
  return SCOPES.map((scope) => ({ value: scope, label: SCOPE_LABELS[scope], checked: checked.includes(scope) }));
}

export function registerKeyPages(app: HttpApp, kit: ConsoleKit): void {
  const { ctx } = kit;

  servicePage(app, kit, { method: 'GET', path: '/keys', permission: 'keys:view', query: z.object({ revoked: z.string().max(60).optional() }) }, async ({ page, query }) => {
    const keys = await listKeysForAccount(ctx, page.accountId);
    const creators = await creatorNames(kit, keys);
    const revoked = query.revoked ? keys.find((k) => k.id === query.revoked && k.status === 'revoked') : undefined;
    return page.render('keys.njk', {
      pageTitle: 'API keys',
      keys: keys.map((k) => rowOf(k, creators, page)),
      canManage: page.can('keys:manage'),
      revokedName: revoked?.name,
    });
  });

  const newKeyForm = (page: ServicePage, values: { name: string; scopes: readonly string[]; expires: string }, errors: FieldErrors = {}) =>
    page.render(
      'keys-new.njk',
      { pageTitle: 'Create an API key', values, scopes: scopeChoices(values.scopes), expiries: EXPIRY_CHOICES.map((e) => ({ ...e, checked: e.value === values.expires })), errors },
      { status: Object.keys(errors).length > 0 ? 422 : 200 },
    );

  servicePage(app, kit, { method: 'GET', path: '/keys/new', permission: 'keys:manage' }, async ({ page }) =>
    newKeyForm(page, { name: '', scopes: DEFAULT_SCOPES, expires: 'never' }),
  );

  servicePage(app, kit, { method: 'POST', path: '/keys/new', permission: 'keys:manage', body: createBody, stepUpReturn: '/keys/new' }, async ({ page, body }) => {
    const values = { name: (body.name ?? '').trim(), scopes: asList(body.scopes), expires: body.expires ?? '' };
    const errors: FieldErrors = {};
    if (values.name.length === 0) errors.name = 'Enter a name for the key, such as where it will be used';
    else if (values.name.length > 100) errors.name = 'The name must be 100 characters or fewer';
    if (values.scopes.length === 0) errors.scopes = 'Choose at least one thing the key may do';
    else if (!values.scopes.every(isScope)) errors.scopes = 'Choose from the listed permissions';
    const expiry = EXPIRY_CHOICES.find((e) => e.value === values.expires);
    if (!expiry) errors.expires = 'Choose when the key expires';
    if (Object.keys(errors).length > 0 || !expiry) return newKeyForm(page, values, errors);

    const created = await createKey(ctx, {
      serviceId: page.service.id,
      mode: page.mode,
      name: values.name,
      scopes: values.scopes,
      expiresInMs: expiry.ms,
      createdBy: userActor(page.user.id),
    });
    return page.render(
      'keys-created.njk',
      { pageTitle: 'Your new API key', token: created.token, key: rowOf(created.key, new Map([[created.key.created_by, page.user.email]]), page) },
      { status: 201, scripts: ['console/copy-key.js'] },
    );
  });

  servicePage(app, kit, { method: 'GET', path: '/keys/:keyId/revoke', permission: 'keys:manage', params: keyParams }, async ({ page, params }) => {
    const key = await keyOr404(kit, page, params.keyId);
    if (key.status === 'revoked') return page.render('keys-revoke.njk', { pageTitle: 'Revoke an API key', key: rowOf(key, await creatorNames(kit, [key]), page), alreadyRevoked: true });
    return page.render('keys-revoke.njk', { pageTitle: 'Revoke an API key', key: rowOf(key, await creatorNames(kit, [key]), page), reason: '' });
  });

  servicePage(
    app,
    kit,
    { method: 'POST', path: '/keys/:keyId/revoke', permission: 'keys:manage', params: keyParams, body: revokeBody, stepUpReturn: '/keys/:keyId/revoke' },
    async ({ page, params, body, reply }) => {
      const key = await keyOr404(kit, page, params.keyId);
      const reason = (body.reason ?? '').trim();
      const again = (errors: FieldErrors, status: number) =>
        page.render('keys-revoke.njk', { pageTitle: 'Revoke an API key', key: rowOf(key, new Map(), page), reason, errors }, { status });
      if (reason.length > 500) return again({ reason: 'The reason must be 500 characters or fewer' }, 422);
      try {
        await revokeKey(ctx, key.id, { by: userActor(page.user.id), reason: reason || undefined, accountId: page.accountId });
      } catch (err) {
        // Revoked by someone else meanwhile: the outcome wanted.
        if (!(err instanceof CofferError && err.status === 409)) throw err;
      }
      return reply.redirect(`${page.base}/keys?revoked=${encodeURIComponent(key.id)}`, 303);
    },
  );

  const rollForm = (page: ServicePage, key: KeyView, overlap: string, errors: FieldErrors = {}, status = 200) =>
    page.render(
      'keys-roll.njk',
      {
        pageTitle: 'Roll an API key',
        key: rowOf(key, new Map(), page),
        overlaps: OVERLAP_CHOICES.map((o) => ({ ...o, checked: o.value === overlap })),
        refusal: key.status === 'active' ? undefined : `Only an active key can be rolled; this key is ${STATUS_TAGS[key.status].text.toLowerCase()}.`,
        errors,
      },
      { status },
    );

  servicePage(app, kit, { method: 'GET', path: '/keys/:keyId/roll', permission: 'keys:manage', params: keyParams }, async ({ page, params }) => {
    const key = await keyOr404(kit, page, params.keyId);
    return rollForm(page, key, DEFAULT_OVERLAP, {}, key.status === 'active' ? 200 : 409);
  });

  servicePage(
    app,
    kit,
    { method: 'POST', path: '/keys/:keyId/roll', permission: 'keys:manage', params: keyParams, body: rollBody, stepUpReturn: '/keys/:keyId/roll' },
    async ({ page, params, body }) => {
      const key = await keyOr404(kit, page, params.keyId);
      const overlap = OVERLAP_CHOICES.find((o) => o.value === body.overlap);
      if (!overlap) return rollForm(page, key, body.overlap ?? '', { overlap: 'Choose how long the old key keeps working' }, 422);
      let rolled;
      try {
        rolled = await rollKey(ctx, key.id, { overlapMs: overlap.ms, by: userActor(page.user.id) });
      } catch (err) {
        // Rolled or revoked by someone else meanwhile: show the key as it is now.
        if (err instanceof CofferError && err.status === 409) return rollForm(page, await keyOr404(kit, page, key.id), overlap.value, {}, 409);
        throw err;
      }
      return page.render(
        'keys-created.njk',
        {
          pageTitle: 'Your new API key',
          token: rolled.token,
          key: rowOf(rolled.key, new Map([[rolled.key.created_by, page.user.email]]), page),
          previous: { name: rolled.previous.name, display: rolled.previous.display, until: formatUtc(rolled.previous.expires_at), stopped: rolled.previous.status === 'revoked' },
        },
        { status: 201, scripts: ['console/copy-key.js'] },
      );
    },
  );
}
