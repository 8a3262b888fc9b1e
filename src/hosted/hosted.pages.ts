// Wires the payment pages: their assets (served by Coffer, with SRI), templates, messages in
// English and Welsh, the script inventory, and the page context with sessions and CSRF.
import type { HttpApp } from '../http/types.js';
import type { AppContext } from '../platform/context.js';
import { AssetRegistry } from '../web/assets.js';
import { mergeCatalogues } from '../web/i18n.js';
import { webCatalogues } from '../web/locales.js';
import { besideModule } from '../web/paths.js';
import { PageRenderer } from '../web/views.js';
import { registerPages, webAssetSpecs, webViewsDir } from '../web/web.plugin.js';
import { hostedRoutes, PAYER_SESSION } from './hosted.routes.js';
import { cy } from './locales/cy.js';
import { en } from './locales/en.js';
import { PAYMENT_PAGE_SCRIPTS } from './script-inventory.js';

export const PAYMENT_ASSET_PREFIX = '/assets/pay';

export function paymentPageRenderer(): PageRenderer {
  const assets = new AssetRegistry(
    [...webAssetSpecs(), { name: 'hosted/card-brand.js', dir: besideModule(import.meta.url, 'assets'), file: 'card-brand.js' }],
    PAYMENT_ASSET_PREFIX,
  );
  return new PageRenderer({
    viewDirs: [besideModule(import.meta.url, 'views'), webViewsDir()],
    assets,
    catalogues: mergeCatalogues(webCatalogues, { en, cy }),
    stylesheets: ['web/page.css'],
    scriptInventory: PAYMENT_PAGE_SCRIPTS,
  });
}

export async function registerPaymentPages(app: HttpApp, ctx: AppContext, renderer: PageRenderer = paymentPageRenderer()): Promise<void> {
  renderer.assets.registerRoutes(app);
  const catalogues = renderer.catalogues;
  await registerPages(app, ctx, {
    renderer,
    session: PAYER_SESSION,
    errorView: 'error.njk',
    routes: (pages) => hostedRoutes(pages, ctx, renderer, catalogues),
  });
}
