// Renders Coffer's pages: nunjucks with autoescape on (every value is HTML-escaped unless a
// template says otherwise, and none of ours do), a per-request translator, assets named with
// their SRI hashes, and the page CSP set on the same reply. A page may only load scripts listed
// in the renderer's inventory (PCI DSS 6.4.3); asking for any other throws.
import nunjucks from 'nunjucks';
import type { FastifyReply } from 'fastify';
import type { AssetRegistry, Asset } from './assets.js';
import { pageCsp } from './csp.js';
import { formatMoney, translator, type Catalogues, type Lang } from './i18n.js';

export interface ScriptInventoryEntry {
  /** Asset name, e.g. `hosted/card-brand.js`. */
  asset: string;
  /** What it does for the payer, and why the page needs it. */
  justification: string;
  /** Pages that load it. */
  pages: readonly string[];
  /** The page still works without it. */
  optional: boolean;
}

export interface PageRendererOptions {
  viewDirs: readonly string[];
  assets: AssetRegistry;
  catalogues: Catalogues;
  stylesheets: readonly string[];
  scriptInventory: readonly ScriptInventoryEntry[];
}

export interface PageRequest {
  view: string;
  lang: Lang;
  status?: number;
  /** Scripts this page loads; each must be in the inventory for this view. */
  scripts?: readonly string[];
  /** Origins the page's forms may end up at (see pageCsp). */
  formActionOrigins?: readonly string[];
  data?: Record<string, unknown>;
}

export class PageRenderer {
  private readonly env: nunjucks.Environment;

  constructor(private readonly options: PageRendererOptions) {
    this.env = new nunjucks.Environment(new nunjucks.FileSystemLoader([...options.viewDirs], { noCache: false }), {
      autoescape: true,
      throwOnUndefined: true,
      trimBlocks: true,
      lstripBlocks: true,
    });
    this.env.addFilter('money', (amount: number, currency: string) => formatMoney(amount, currency));
    // A moment as people read it, "2026-11-25 12:00:00"; pages say the zone (UTC) in the heading.
    this.env.addFilter('utc', (at: string | Date | null | undefined) => (at === null || at === undefined ? '' : (typeof at === 'string' ? at : at.toISOString()).slice(0, 19).replace('T', ' ')));
    for (const name of options.stylesheets) options.assets.get(name);
    for (const entry of options.scriptInventory) options.assets.get(entry.asset);
  }

  get inventory(): readonly ScriptInventoryEntry[] {
    return this.options.scriptInventory;
  }

  get assets(): AssetRegistry {
    return this.options.assets;
  }

  get catalogues(): Catalogues {
    return this.options.catalogues;
  }

  /** The HTML for a page, with its CSP; the caller sends both. */
  render(page: PageRequest): { html: string; csp: string } {
    const scripts = (page.scripts ?? []).map((name) => this.inventoried(name, page.view));
    const stylesheets = this.options.stylesheets.map((name) => this.options.assets.get(name));
    const html = this.env.render(page.view, {
      ...page.data,
      lang: page.lang,
      t: translator(this.options.catalogues, page.lang),
      stylesheets,
      scripts,
    });
    return { html, csp: pageCsp({ formActionOrigins: page.formActionOrigins ?? [] }) };
  }

  send(reply: FastifyReply, page: PageRequest): FastifyReply {
    const { html, csp } = this.render(page);
    return reply
      .status(page.status ?? 200)
      .header('Content-Security-Policy', csp)
      .header('Cache-Control', 'no-store')
      .type('text/html; charset=utf-8')
      .send(html);
  }

  private inventoried(name: string, view: string): Asset {
    const entry = this.options.scriptInventory.find((e) => e.asset === name);
    if (!entry || !entry.pages.includes(view)) throw new TypeError(`script ${name} is not in the inventory for ${view}`);
    return this.options.assets.get(name);
  }
}
