// Static files (CSS, the few scripts) served by Coffer itself, never from a third party. Each is
// read once at start-up, hashed with SHA-384 for Subresource Integrity, and served at a
// content-addressed URL with a long cache life: a changed file gets a new URL and a new hash, so
// a browser never runs a script whose hash the page did not name.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HttpApp } from '../http/types.js';
import { z } from 'zod';

export interface AssetSpec {
  /** How pages refer to it, e.g. `hosted/card-brand.js`. */
  name: string;
  dir: string;
  file: string;
}

export interface Asset {
  name: string;
  url: string;
  /** `sha384-…`, for the integrity attribute. */
  integrity: string;
  contentType: string;
  body: Buffer;
}

const CONTENT_TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

export class AssetRegistry {
  private readonly byName = new Map<string, Asset>();
  private readonly byPath = new Map<string, Asset>();

  /** `prefix` keeps each set of pages' assets apart, e.g. `/assets/pay`, `/assets/console`. */
  constructor(
    specs: readonly AssetSpec[],
    private readonly prefix: string,
  ) {
    if (!/^\/[a-z/]+[a-z]$/.test(prefix)) throw new TypeError(`bad asset prefix ${prefix}`);
    for (const spec of specs) {
      const body = readFileSync(join(spec.dir, spec.file));
      const extension = /\.[a-z]+$/.exec(spec.file)?.[0] ?? '';
      const contentType = CONTENT_TYPES[extension];
      if (!contentType) throw new TypeError(`no content type for ${spec.file}`);
      const digest = createHash('sha384').update(body).digest();
      const version = createHash('sha256').update(body).digest('hex').slice(0, 16);
      const file = spec.name.replace(/\//g, '-');
      const url = `${prefix}/${version}/${file}`;
      const asset: Asset = { name: spec.name, url, integrity: `sha384-${digest.toString('base64')}`, contentType, body };
      if (this.byName.has(spec.name)) throw new TypeError(`asset ${spec.name} registered twice`);
      this.byName.set(spec.name, asset);
      this.byPath.set(`${version}/${file}`, asset);
    }
  }

  get(name: string): Asset {
    const asset = this.byName.get(name);
    if (!asset) throw new TypeError(`no asset ${name}`);
    return asset;
  }

  all(): Asset[] {
    return [...this.byName.values()];
  }

  /** Serves every asset. Immutable: the URL changes whenever the content does. */
  registerRoutes(app: HttpApp): void {
    app.get(
      `${this.prefix}/:version/:file`,
      {
        config: { auth: 'public' },
        schema: { params: z.object({ version: z.string().regex(/^[0-9a-f]{16}$/), file: z.string().regex(/^[a-z0-9.-]{1,100}$/) }) },
      },
      async (request, reply) => {
        const asset = this.byPath.get(`${request.params.version}/${request.params.file}`);
        if (!asset) return reply.status(404).type('text/plain; charset=utf-8').send('Not found');
        return reply
          .header('Cache-Control', 'public, max-age=31536000, immutable')
          .header('Cross-Origin-Resource-Policy', 'same-origin')
          .type(asset.contentType)
          .send(asset.body);
      },
    );
  }
}
