// Console pages for the account's home: payments today and this week, success rate, volume chart.
// Registered by service-pages.ts; each page goes through servicePage() in console.shell.ts,
// which does the session, service, allow-list, role and step-up checks before the handler runs.
import type { HttpApp } from '../../http/types.js';
import type { ConsoleKit } from './console.kit.js';
import { servicePage } from './console.shell.js';

export function registerDashboardPages(app: HttpApp, kit: ConsoleKit): void {
  servicePage(app, kit, { method: 'GET', path: '', permission: 'dashboard:view' }, async ({ page }) =>
    page.render('dashboard.njk', { pageTitle: 'Dashboard' }),
  );
}
