// Console pages for service settings and the live account switch. Registered by service-pages.ts; each page goes through
// servicePage() in console.shell.ts, which does the session, service, allow-list, role and
// step-up checks before the handler runs.
import type { HttpApp } from '../../http/types.js';
import type { ConsoleKit } from './console.kit.js';

export function registerSettingsPages(app: HttpApp, kit: ConsoleKit): void {
  void app;
  void kit;
}
