// The HTTP surface every capability shares: security headers on every response, the OpenAPI
// document and the docs page, security.txt, health and readiness, and how failures are
// rendered (always the same body shape with the request id; never a stack or an internal
// message). Over real HTTP, on the embedded store and on PostgreSQL.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { buildServer, type ServerOptions } from '../../src/http/server.js';
import type { HttpApp } from '../../src/http/types.js';
import { API_CSP, HSTS } from '../../src/http/security-headers.js';
import type { AppContext } from '../../src/platform/context.js';
import { openStore, type Store } from '../../src/store/database.js';
import { migrateToLatest } from '../../src/store/migrate.js';
import { startCoffer, usingPostgres, type TestCoffer } from '../support/harness.js';

let coffer: TestCoffer;
before(async () => {
  coffer = await startCoffer();
});
after(() => coffer.close());

const REQUEST_ID = /^req_[0-9A-Za-z]{20}$/;

const serverOptions: ServerOptions = {
  baseUrl: 'http://127.0.0.1',
  version: 'test',
  trustedProxies: [],
  securityTxt: { contact: 'mailto:security@example.org', expires: undefined },
};

/** A second server over a given context (another store, or extra routes), listening on loopback. */
async function serveWith(ctx: AppContext, options: Partial<ServerOptions> = {}, extra?: (app: HttpApp) => void): Promise<{ url: string; app: HttpApp }> {
  const app = await buildServer(ctx, { ...serverOptions, ...options });
  extra?.(app);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  return { url: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`, app };
}

/** A store no migration has touched: a new PGlite directory, or a new PostgreSQL database. */
async function freshStore(): Promise<{ store: Store; dispose(): Promise<void> }> {
  if (!usingPostgres()) {
    const dir = mkdtempSync(join(tmpdir(), 'coffer-fresh-'));
    const store = await openStore({ embeddedDir: dir });
    return { store, dispose: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const base = new URL(process.env.COFFER_TEST_DATABASE_URL!);
  const name = `coffer_fresh_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
  const admin = new pg.Client({ connectionString: base.toString() });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(base);
  url.pathname = `/${name}`;
  const store = await openStore({ databaseUrl: url.toString(), poolSize: 2 });
  return {
    store,
    dispose: async () => {
      const dropper = new pg.Client({ connectionString: base.toString() });
      await dropper.connect();
      await dropper.query(`drop database if exists ${name} with (force)`);
      await dropper.end();
    },
  };
}

function assertSecurityHeaders(label: string, headers: Headers, csp: 'api' | 'page' = 'api') {
  assert.equal(headers.get('x-content-type-options'), 'nosniff', label);
  assert.equal(headers.get('referrer-policy'), 'no-referrer', label);
  assert.equal(headers.get('x-frame-options'), 'DENY', label);
  assert.match(headers.get('x-request-id') ?? '', REQUEST_ID, label);
  const policy = headers.get('content-security-policy') ?? '';
  assert.match(policy, /frame-ancestors 'none'/, label);
  if (csp === 'api') assert.equal(policy, API_CSP, label);
  // Plain http with an http base URL: no HSTS (it would be ignored, and pins nothing).
  assert.equal(headers.get('strict-transport-security'), null, label);
}

describe('security headers', () => {
  test('on every kind of response: API, errors, 404, documents and docs pages', async () => {
    const { token } = await coffer.newTenant({ scopes: ['keys:write'] });
    const cases: [string, Promise<{ status: number; headers: Headers }>, number, 'api' | 'page'][] = [
      ['healthz', coffer.request('GET', '/healthz'), 200, 'api'],
      ['readyz', coffer.request('GET', '/readyz'), 200, 'api'],
      ['account', coffer.request('GET', '/v1/account', { key: token }), 200, 'api'],
      ['no key', coffer.request('GET', '/v1/account'), 401, 'api'],
      ['missing scope', coffer.request('GET', '/v1/keys/key_x', { key: (await coffer.newTenant({ scopes: ['payments:read'] })).token }), 403, 'api'],
      ['bad json', coffer.request('POST', '/v1/keys/key_x/revoke', { key: token, rawBody: '{', headers: { 'content-type': 'application/json' } }), 400, 'api'],
      ['unknown route', coffer.request('GET', '/no/such/thing'), 404, 'api'],
      ['openapi', coffer.request('GET', '/openapi.json'), 200, 'api'],
      ['security.txt', coffer.request('GET', '/.well-known/security.txt'), 200, 'api'],
      ['docs page', coffer.request('GET', '/docs'), 200, 'page'],
      ['docs asset', coffer.request('GET', '/docs/static/swagger-ui-bundle.js'), 200, 'page'],
    ];
    for (const [label, pending, status, csp] of cases) {
      const response = await pending;
      assert.equal(response.status, status, label);
      assertSecurityHeaders(label, response.headers, csp);
    }
  });

  test('API responses are not cached', async () => {
    const { token } = await coffer.newTenant();
    const response = await coffer.request('GET', '/v1/account', { key: token });
    assert.equal(response.headers.get('cache-control'), 'no-store');
  });

  test('HSTS is exactly the preload-ready value when the base URL is https', () => {
    assert.equal(HSTS, 'max-age=63072000; includeSubDomains; preload');
  });
});

describe('the OpenAPI document', () => {
  test('is OpenAPI 3.1 with the routes, their request and response schemas, and the bearer scheme', async () => {
    const response = await coffer.request('GET', '/openapi.json');
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
    const spec = response.body;
    assert.match(spec.openapi, /^3\.1\.\d+$/);
    assert.equal(spec.info.title, 'Coffer API');
    assert.deepEqual(spec.components.securitySchemes.BearerAuth, { type: 'http', scheme: 'bearer' });
    assert.deepEqual(spec.security, [{ BearerAuth: [] }]);

    for (const path of ['/healthz', '/readyz', '/v1/account', '/v1/keys', '/v1/keys/{keyId}', '/v1/keys/{keyId}/revoke', '/v1/keys/{keyId}/roll']) {
      assert.ok(spec.paths[path], `${path} is documented`);
    }
    const account = spec.paths['/v1/account'].get.responses['200'].content['application/json'].schema;
    assert.deepEqual(account.required.sort(), ['account_id', 'key', 'mode', 'service_id', 'service_name']);
    assert.deepEqual(account.properties.mode.enum, ['test', 'live']);

    const revoke = spec.paths['/v1/keys/{keyId}/revoke'].post;
    assert.equal(revoke.parameters.find((p: { name: string }) => p.name === 'keyId').in, 'path');
    const revokeBody = revoke.requestBody.content['application/json'].schema;
    assert.equal(revokeBody.properties.reason.type, 'string');
    assert.equal(revokeBody.properties.reason.maxLength, 500);
    assert.equal(revokeBody.additionalProperties, false);

    const roll = spec.paths['/v1/keys/{keyId}/roll'].post.responses['200'].content['application/json'].schema;
    assert.ok(roll.properties.key, 'the rolled key is documented');
    assert.equal(roll.properties.api_key.properties.token_hash, undefined, 'no hash in the key view');
  });

  test('does not list the docs pages themselves', async () => {
    const spec = (await coffer.request('GET', '/openapi.json')).body;
    assert.ok(!Object.keys(spec.paths).some((p) => p.startsWith('/docs')));
  });
});

describe('the docs page', () => {
  test('is served by Coffer itself under a CSP with no inline or eval script', async () => {
    const page = await coffer.request('GET', '/docs');
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
    assert.match(page.text, /<div id="swagger-ui">/);
    const policy = page.headers.get('content-security-policy') ?? '';
    const directives = new Map(policy.split(';').map((d) => d.trim()).filter(Boolean).map((d) => [d.split(/\s+/)[0]!, d.split(/\s+/).slice(1)]));
    const scriptSources = directives.get('script-src') ?? directives.get('default-src');
    assert.ok(scriptSources, 'scripts are restricted');
    assert.ok(!scriptSources.includes("'unsafe-inline'"), policy);
    assert.ok(!scriptSources.includes("'unsafe-eval'"), policy);
    assert.ok(scriptSources.every((s) => s === "'self'" || s.startsWith("'sha256-")), `only own files or hashes: ${policy}`);
    assert.deepEqual(directives.get('frame-ancestors'), ["'none'"]);
    assert.deepEqual(directives.get('object-src'), ["'none'"]);
    // Every script the page loads is Coffer's own, and is there.
    const scripts = [...page.text.matchAll(/<script[^>]*src="([^"]+)"/g)].map((m) => m[1]!);
    assert.ok(scripts.length > 0);
    assert.ok(!/<script(?![^>]*src=)[^>]*>\s*\S/.test(page.text), 'no inline script');
    for (const src of scripts) {
      assert.ok(!/^https?:/.test(src), `${src} is served by Coffer`);
      const asset = await coffer.request('GET', new URL(src, `${coffer.url}/docs/`).pathname);
      assert.equal(asset.status, 200, src);
      assert.match(asset.headers.get('content-type') ?? '', /javascript/, src);
    }
  });
});

describe('security.txt (RFC 9116)', () => {
  test('has a Contact and an Expires less than a year ahead by default', async () => {
    const response = await coffer.request('GET', '/.well-known/security.txt');
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/plain; charset=utf-8/);
    const fields = new Map(response.text.trim().split('\n').map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1).trim()]));
    assert.equal(fields.get('Contact'), 'mailto:security@example.org');
    const expires = new Date(fields.get('Expires') ?? '');
    assert.match(fields.get('Expires') ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const ahead = expires.getTime() - coffer.clock.now().getTime();
    assert.ok(ahead > 0 && ahead < 365 * 86_400_000, `Expires ${fields.get('Expires')} is within a year`);
  });

  test('Contact and Expires are configurable', async () => {
    const expires = new Date('2027-03-01T00:00:00Z');
    const other = await startCoffer({ securityTxt: { contact: 'https://example.org/report-a-vulnerability', expires } });
    try {
      const text = (await other.request('GET', '/.well-known/security.txt')).text;
      assert.match(text, /^Contact: https:\/\/example\.org\/report-a-vulnerability$/m);
      assert.match(text, /^Expires: 2027-03-01T00:00:00Z$/m);
    } finally {
      await other.close();
    }
  });
});

describe('health and readiness', () => {
  test('/healthz says the process is up, without a key', async () => {
    const response = await coffer.request('GET', '/healthz');
    assert.equal(response.status, 200);
    assert.deepEqual(response.body, { status: 'ok' });
  });

  test('/readyz is ready when the database answers and every migration is applied', async () => {
    const response = await coffer.request('GET', '/readyz');
    assert.equal(response.status, 200);
    assert.deepEqual(response.body, { status: 'ready' });
  });

  test('/readyz is 503 when migrations are pending, and ready once they are applied', async () => {
    const fresh = await freshStore();
    const server = await serveWith({ ...coffer.ctx, db: fresh.store.db, storeKind: fresh.store.kind });
    try {
      const pending = await fetch(`${server.url}/readyz`);
      assert.equal(pending.status, 503);
      assert.deepEqual(await pending.json(), { status: 'not_ready', reason: 'migrations pending' });
      await migrateToLatest(fresh.store.db);
      const ready = await fetch(`${server.url}/readyz`);
      assert.equal(ready.status, 200);
    } finally {
      await server.app.close();
      await fresh.store.close();
      await fresh.dispose();
    }
  });

  test('/readyz is 503 when the database cannot be reached (here: its store is closed); /healthz stays up', async () => {
    const fresh = await freshStore();
    await migrateToLatest(fresh.store.db);
    const server = await serveWith({ ...coffer.ctx, db: fresh.store.db, storeKind: fresh.store.kind });
    try {
      assert.equal((await fetch(`${server.url}/readyz`)).status, 200);
      await fresh.store.close();
      const down = await fetch(`${server.url}/readyz`);
      assert.equal(down.status, 503);
      assert.deepEqual(await down.json(), { status: 'not_ready', reason: 'database unreachable' });
      assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
    } finally {
      await server.app.close().catch(() => undefined);
      await fresh.dispose();
    }
  });
});

describe('error rendering', () => {
  let token: string;
  let keyId: string;
  before(async () => {
    ({ token, keyId } = await coffer.newTenant({ scopes: ['keys:read', 'keys:write'] }));
  });

  function assertErrorBody(response: { status: number; headers: Headers; body: Record<string, unknown> }, status: number, code: string) {
    assert.equal(response.status, status);
    assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
    assert.equal(response.body.code, code);
    assert.equal(typeof response.body.description, 'string');
    assert.match(String(response.body.request_id), REQUEST_ID);
    assert.equal(response.body.request_id, response.headers.get('x-request-id'));
  }

  test('unparseable JSON: C0197 with the request id of the X-Request-Id header', async () => {
    const response = await coffer.request('POST', `/v1/keys/${keyId}/revoke`, { key: token, rawBody: '{"reason": ', headers: { 'content-type': 'application/json' } });
    assertErrorBody(response, 400, 'C0197');
    assert.equal(response.body.description, 'Unable to parse JSON');
    assert.equal((await coffer.request('GET', '/v1/account', { key: token })).status, 200, 'the key was not revoked');
  });

  test('a body that is not JSON: 415 C0198', async () => {
    const response = await coffer.request('POST', `/v1/keys/${keyId}/revoke`, { key: token, rawBody: 'reason=leaked', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    assertErrorBody(response, 415, 'C0198');
  });

  test('a body over the limit: 413 C0199', async () => {
    const response = await coffer.request('POST', `/v1/keys/${keyId}/revoke`, { key: token, body: { reason: 'x'.repeat(70 * 1024) } });
    assertErrorBody(response, 413, 'C0199');
  });

  test('a field that fails its schema: C0102 naming the field; an unknown field: C0104', async () => {
    const tooLong = await coffer.request('POST', `/v1/keys/${keyId}/revoke`, { key: token, body: { reason: 'x'.repeat(501) } });
    assertErrorBody(tooLong, 422, 'C0102');
    assert.equal(tooLong.body.field, 'reason');
    const unexpected = await coffer.request('POST', `/v1/keys/${keyId}/revoke`, { key: token, body: { reason: 'ok', colour: 'red' } });
    assertErrorBody(unexpected, 400, 'C0104');
    assert.equal(unexpected.body.field, 'colour');
  });

  test('an unknown route: 404 C0405, the same for every method', async () => {
    assertErrorBody(await coffer.request('GET', '/v1/nothing-here'), 404, 'C0405');
    assertErrorBody(await coffer.request('DELETE', '/v1/account'), 404, 'C0405');
    assertErrorBody(await coffer.request('GET', '/v1/nothing-here', { key: token }), 404, 'C0405');
  });

  test('an unexpected error: a generic C0500 with the request id; the detail goes only to the log', async () => {
    const secret = 'db password hunter2 at 10.1.2.3';
    const server = await serveWith(coffer.ctx, {}, (app) => {
      app.get('/test/explode', { config: { auth: 'public' } }, async () => {
        throw new TypeError(`cannot read ${secret}`);
      });
    });
    try {
      const response = await fetch(`${server.url}/test/explode`);
      const text = await response.text();
      const body = JSON.parse(text) as Record<string, unknown>;
      assert.equal(response.status, 500);
      assert.deepEqual(Object.keys(body).sort(), ['code', 'description', 'request_id']);
      assert.equal(body.code, 'C0500');
      assert.equal(body.description, 'Something went wrong. Quote the request id if you contact support.');
      assert.equal(body.request_id, response.headers.get('x-request-id'));
      assert.ok(!text.includes('hunter2') && !text.includes('TypeError') && !text.includes('.ts:'), text);

      const logged = coffer.logLines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.request_id === body.request_id && l.level === 50);
      assert.ok(logged, 'the failure is logged at error level with the request id');
      const err = logged.err as { message: string; stack: string; type: string };
      assert.equal(err.type, 'TypeError');
      assert.match(err.message, /hunter2/);
      assert.match(err.stack, /surface\.test\.ts/);
    } finally {
      await server.app.close();
    }
  });

  test('every request id is unique', async () => {
    const ids = new Set<string>();
    for (let i = 0; i < 20; i++) ids.add((await coffer.request('GET', '/healthz')).headers.get('x-request-id') ?? '');
    assert.equal(ids.size, 20);
  });
});
