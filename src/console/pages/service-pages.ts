// Every page about one service's account, by area. Each area's module owns its routes and
// views; this list is the only place they meet.
import type { HttpApp } from '../../http/types.js';
import type { ConsoleKit } from './console.kit.js';
import { registerAccessReviewPages } from './access-review.pages.js';
import { registerAlertPages } from './alerts.pages.js';
import { registerAuditPages } from './audit.pages.js';
import { registerDashboardPages } from './dashboard.pages.js';
import { registerKeyPages } from './keys.pages.js';
import { registerSettingsPages } from './settings.pages.js';
import { registerTeamPages } from './team.pages.js';
import { registerTransactionPages } from './transactions.pages.js';
import { registerWebhookPages } from './webhooks.pages.js';

export function registerServicePages(app: HttpApp, kit: ConsoleKit): void {
  registerDashboardPages(app, kit);
  registerTransactionPages(app, kit);
  registerKeyPages(app, kit);
  registerWebhookPages(app, kit);
  registerTeamPages(app, kit);
  registerAccessReviewPages(app, kit);
  registerSettingsPages(app, kit);
  registerAlertPages(app, kit);
  registerAuditPages(app, kit);
}
