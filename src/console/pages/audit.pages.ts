// Console pages for the audit log: search by actor, action, object and time, newest first, a
// page at a time, and the same search exported as JSON lines. The account's entries and the
// service's own (team, invites) are shown; reading and exporting are themselves recorded
// (audit.read, audit.export, PCI DSS 10.2.1.3) by the audit service, under the signed-in user.
// Registered by service-pages.ts; each page goes through servicePage() in console.shell.ts,
// which does the session, service, allow-list, role and step-up checks before the handler runs.
import { Readable } from 'node:stream';
import { z } from 'zod';
import type { HttpApp } from '../../http/types.js';
import { exportAuditForAccount, searchAuditForAccount, type AuditQuery, type AuditScope } from '../../audit/audit.service.js';
import { findUserByEmail } from '../identity/user.repo.js';
import type { ConsoleKit, FieldErrors } from './console.kit.js';
import { servicePage, type ServicePage } from './console.shell.js';

const PAGE_SIZE = 50;

// Lenient on purpose: a mistyped filter is shown back with a message, not answered with a 400.
const searchQuery = z.object({
  actor: z.string().max(320).optional(),
  action: z.string().max(100).optional(),
  object_type: z.string().max(50).optional(),
  object_id: z.string().max(100).optional(),
  from: z.string().max(40).optional(),
  to: z.string().max(40).optional(),
  cursor: z.string().max(20).optional(),
});
type SearchQuery = z.infer<typeof searchQuery>;

const ACTION = /^[a-z0-9_.]+(\.\*)?$/;
const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
// What a date or datetime-local input sends, or a full ISO 8601 time; no zone means UTC.
// eslint-disable-next-line security/detect-unsafe-regex -- fixed-width parts, no repetition: linear
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?(\.\d{1,3})?(Z|[+-]\d{2}:\d{2})?$/;

/** A time from the form; `to` with a date alone means the end of that day. */
function parseTime(text: string, end: boolean): Date | undefined {
  if (!DATE_ONLY.test(text) && !DATE_TIME.test(text)) return undefined;
  const zoned = /(Z|[+-]\d{2}:\d{2})$/.test(text) ? text : DATE_ONLY.test(text) ? `${text}T00:00:00Z` : `${text}Z`;
  const at = new Date(zoned);
  if (Number.isNaN(at.getTime())) return undefined;
  return end && DATE_ONLY.test(text) ? new Date(at.getTime() + 86_400_000) : at;
}

const blank = (value: string | undefined): string | undefined => (value === undefined || value.trim() === '' ? undefined : value.trim());

/** The form's fields as a search, or what is wrong with them. */
async function toSearch(kit: ConsoleKit, form: SearchQuery): Promise<{ query: AuditQuery; errors: FieldErrors }> {
  const errors: FieldErrors = {};
  let actor = blank(form.actor);
  // People know each other by email; the log knows users by id.
  if (actor?.includes('@')) actor = (await findUserByEmail(kit.ctx.db, actor))?.id ?? 'usr_nobody';
  const action = blank(form.action);
  if (action !== undefined && !ACTION.test(action)) errors.action = 'Enter an action like payment.refund, or payment.* for every payment action';
  const fromText = blank(form.from);
  const toText = blank(form.to);
  const from = fromText === undefined ? undefined : parseTime(fromText, false);
  const to = toText === undefined ? undefined : parseTime(toText, true);
  if (fromText !== undefined && !from) errors.from = 'Enter a date like 2026-11-25, or a date and time like 2026-11-25T09:30 (UTC)';
  if (toText !== undefined && !to) errors.to = 'Enter a date like 2026-11-25, or a date and time like 2026-11-25T17:00 (UTC)';
  if (from && to && from.getTime() >= to.getTime()) errors.to = 'The end must be after the start';
  const cursor = blank(form.cursor);
  return {
    query: { actor, action, objectType: blank(form.object_type), objectId: blank(form.object_id), from, to, cursor: cursor && /^c\d{1,15}$/.test(cursor) ? cursor : undefined },
    errors,
  };
}

const scopeOf = (page: ServicePage): AuditScope => ({ serviceId: page.service.id, accountId: page.accountId, withServiceEntries: true });

/** The filter fields as a query string, for the export link and the next page. */
function queryString(form: SearchQuery, extra: Record<string, string> = {}): string {
  const params = new URLSearchParams();
  for (const name of ['actor', 'action', 'object_type', 'object_id', 'from', 'to'] as const) {
    const value = blank(form[name]);
    if (value !== undefined) params.set(name, value);
  }
  for (const [name, value] of Object.entries(extra)) params.set(name, value);
  const text = params.toString();
  return text ? `?${text}` : '';
}

export function registerAuditPages(app: HttpApp, kit: ConsoleKit): void {
  servicePage(app, kit, { method: 'GET', path: '/audit', permission: 'audit:view', query: searchQuery }, async ({ query: form, page }) => {
    const { query, errors } = await toSearch(kit, form);
    const found = Object.keys(errors).length > 0 ? { results: [], next_cursor: null } : await searchAuditForAccount(kit.ctx, scopeOf(page), { ...query, limit: PAGE_SIZE });
    return page.render(
      'audit.njk',
      {
        pageTitle: Object.keys(errors).length > 0 ? 'Error: Audit log' : 'Audit log',
        form: { actor: form.actor ?? '', action: form.action ?? '', object_type: form.object_type ?? '', object_id: form.object_id ?? '', from: form.from ?? '', to: form.to ?? '' },
        errors,
        entries: found.results.map((entry) => ({ ...entry, detailsText: JSON.stringify(entry.details, null, 2) })),
        filtered: queryString(form) !== '',
        exportHref: `${page.base}/audit/export${queryString(form)}`,
        nextHref: found.next_cursor ? `${page.base}/audit${queryString(form, { cursor: found.next_cursor })}` : null,
        firstHref: form.cursor ? `${page.base}/audit${queryString(form)}` : null,
      },
      { status: Object.keys(errors).length > 0 ? 400 : 200 },
    );
  });

  servicePage(app, kit, { method: 'GET', path: '/audit/export', permission: 'audit:view', query: searchQuery }, async ({ query: form, page, reply }) => {
    const { query, errors } = await toSearch(kit, { ...form, cursor: undefined });
    if (Object.keys(errors).length > 0) return reply.redirect(`${page.base}/audit${queryString(form)}`, 303);
    const day = kit.ctx.clock.now().toISOString().slice(0, 10);
    return reply
      .header('content-type', 'application/x-ndjson; charset=utf-8')
      .header('content-disposition', `attachment; filename="audit-${page.service.id}-${page.mode}-${day}.jsonl"`)
      .header('cache-control', 'no-store')
      .send(Readable.from(exportAuditForAccount(kit.ctx, scopeOf(page), query)));
  });
}
