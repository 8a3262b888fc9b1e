// Console pages for security alerts: the account's alerts and the service-wide ones (console
// sign-ins), open ones first by default, and acknowledge (a CSRF-protected POST, recorded in the
// audit log by the alert service). An open webhook_endpoint_disabled alert is the console's
// notice that Coffer disabled an endpoint. Registered by service-pages.ts; each page goes
// through servicePage() in console.shell.ts, which does the session, service, allow-list, role
// and step-up checks before the handler runs.
import { z } from 'zod';
import type { HttpApp } from '../../http/types.js';
import { acknowledgeAlert, listAlertsForAccount } from '../../alerts/alert.service.js';
import { PageError } from '../../web/web.plugin.js';
import type { ConsoleKit } from './console.kit.js';
import { servicePage } from './console.shell.js';

const listQuery = z.object({
  status: z.enum(['open', 'acknowledged', 'all']).optional(),
  acknowledged: z.string().max(40).optional(),
});

export function registerAlertPages(app: HttpApp, kit: ConsoleKit): void {
  servicePage(app, kit, { method: 'GET', path: '/alerts', permission: 'alerts:view', query: listQuery }, async ({ query, page }) => {
    const status = query.status ?? 'open';
    const alerts = await listAlertsForAccount(kit.ctx, { serviceId: page.service.id, accountId: page.accountId }, status === 'all' ? undefined : status);
    return page.render('alerts.njk', {
      pageTitle: 'Security alerts',
      status,
      filters: (['open', 'acknowledged', 'all'] as const).map((s) => ({ value: s, href: `${page.base}/alerts?status=${s}`, current: s === status })),
      canAcknowledge: page.can('alerts:acknowledge'),
      justAcknowledged: query.acknowledged,
      alerts: alerts.map((a) => ({ ...a, detailsText: JSON.stringify(a.details, null, 2) })),
    });
  });

  servicePage(
    app,
    kit,
    { method: 'POST', path: '/alerts/:alertId/acknowledge', permission: 'alerts:acknowledge', params: z.object({ alertId: z.string().min(1).max(60) }) },
    async ({ params, page, reply }) => {
      const outcome = await acknowledgeAlert(kit.ctx, { serviceId: page.service.id, alertId: params.alertId, userId: page.user.id });
      if (outcome === 'not_found') throw new PageError('not_found', 404);
      // Already acknowledged (a double submit, or a colleague first) ends in the same place.
      return reply.redirect(`${page.base}/alerts?acknowledged=${encodeURIComponent(params.alertId)}`, 303);
    },
  );
}
