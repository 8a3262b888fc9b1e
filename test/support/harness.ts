// Starts a real Coffer for a test file: the real server on a real socket, on the embedded
// store (a fresh PGlite directory) or, when COFFER_TEST_DATABASE_URL is set, on PostgreSQL.
// Tests share the database within a run, so each test makes its own service: isolation by
// tenant, exactly as production isolates. The clock is frozen and moved by hand. With
// COFFER_TEST_REDIS_URL set, rate limits are counted in that Redis, as with REDIS_URL.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import pg from 'pg';
import { ManualClock } from '../../src/platform/clock.js';
import type { AppContext, PaymentsPolicy, WebhookSettings } from '../../src/platform/context.js';
import { openStore, type Store } from '../../src/store/database.js';
import { migrateToLatest } from '../../src/store/migrate.js';
import { buildServer, type ServerOptions } from '../../src/http/server.js';
import type { HttpApp } from '../../src/http/types.js';
import { createLogger } from '../../src/main/logger.js';
import { SandboxProcessor } from '../../src/connectors/sandbox/sandbox.processor.js';
import { createService } from '../../src/services/service.service.js';
import { createKey, type CreateKeyInput } from '../../src/keys/key.service.js';
import { closeRedis, openRedis, redisReady } from '../../src/store/redis.js';

export const usingPostgres = (): boolean => Boolean(process.env.COFFER_TEST_DATABASE_URL);
export const testRedisUrl = (): string | undefined => process.env.COFFER_TEST_REDIS_URL || undefined;

export interface TestCoffer {
  url: string;
  app: HttpApp;
  ctx: AppContext;
  clock: ManualClock;
  store: Store;
  /** Every log line the server wrote, as written (after scrubbing). */
  logLines: string[];
  close(): Promise<void>;
  newService(name?: string): Promise<string>;
  newKey(serviceId: string, options?: Partial<Omit<CreateKeyInput, 'serviceId'>>): Promise<{ token: string; id: string }>;
  /** A service with a test key holding the default scopes. */
  newTenant(options?: Partial<Omit<CreateKeyInput, 'serviceId'>>): Promise<{ serviceId: string; token: string; keyId: string }>;
  request(method: string, path: string, options?: RequestOptions): Promise<TestResponse>;
}

export interface RequestOptions {
  key?: string;
  body?: unknown;
  rawBody?: string;
  headers?: Record<string, string>;
}

export interface TestResponse {
  status: number;
  headers: Headers;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- tests assert on the JSON shape
  text: string;
}

export async function startCoffer(
  options: Partial<ServerOptions> & {
    clock?: ManualClock;
    masterKeyFromEnvironment?: boolean;
    webhooks?: Partial<WebhookSettings>;
    payments?: Partial<PaymentsPolicy>;
    /** A Redis for rate limits (default COFFER_TEST_REDIS_URL; false: none). */
    redisUrl?: string | false;
  } = {},
): Promise<TestCoffer> {
  let dataDir: string | undefined;
  const store = usingPostgres()
    ? await openStore({ databaseUrl: process.env.COFFER_TEST_DATABASE_URL, poolSize: 5 })
    : await openStore({ embeddedDir: (dataDir = mkdtempSync(join(tmpdir(), 'coffer-test-'))) });
  await migrateToLatest(store.db);

  const logLines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      logLines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      callback();
    },
  });
  const clock = options.clock ?? new ManualClock(new Date('2026-11-25T12:00:00.000Z'));
  const ctx: AppContext = {
    db: store.db,
    storeKind: store.kind,
    clock,
    log: createLogger(process.env.COFFER_TEST_LOG_LEVEL ?? 'info', sink),
    masterKey: { key: randomBytes(32), fromEnvironment: options.masterKeyFromEnvironment ?? true },
    cardProcessor: new SandboxProcessor(),
    baseUrl: 'http://127.0.0.1',
    // Test receivers listen on loopback; only test-mode endpoints may use the exception.
    webhooks: { allowPrivateNetworks: ['loopback'], ...options.webhooks },
    // The clock is frozen, so a whole test runs inside one rate-limit second: tests are not
    // limited unless they set an account's limits (or pass payments.defaultRateLimits).
    payments: { defaultRateLimits: { create_payment: 1e9, capture_payment: 1e9, post: 1e9, get: 1e9 }, ...options.payments },
  };
  const redisUrl = options.redisUrl === false ? undefined : (options.redisUrl ?? testRedisUrl());
  if (redisUrl) {
    ctx.redis = openRedis(redisUrl, ctx.log);
    await redisReady(ctx.redis);
  }
  const app = await buildServer(ctx, {
    baseUrl: options.baseUrl ?? 'http://127.0.0.1',
    version: 'test',
    trustedProxies: options.trustedProxies ?? [],
    tls: options.tls,
    securityTxt: options.securityTxt ?? { contact: 'mailto:security@example.org', expires: undefined },
    metricsToken: options.metricsToken,
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const url = `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  // Links Coffer hands out (next_url and the like) must lead back to this very server.
  if (options.baseUrl === undefined) ctx.baseUrl = url;

  const coffer: TestCoffer = {
    url,
    app,
    ctx,
    clock,
    store,
    logLines,
    async close() {
      await app.close();
      if (ctx.redis) await closeRedis(ctx.redis);
      await store.close();
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
    async newService(name = 'Test service') {
      return (await createService(ctx, { name })).id;
    },
    async newKey(serviceId, keyOptions = {}) {
      const created = await createKey(ctx, { mode: 'test', name: 'test key', createdBy: 'test', ...keyOptions, serviceId });
      return { token: created.token, id: created.key.id };
    },
    async newTenant(keyOptions = {}) {
      const serviceId = await coffer.newService();
      const key = await coffer.newKey(serviceId, keyOptions);
      return { serviceId, token: key.token, keyId: key.id };
    },
    async request(method, path, requestOptions = {}) {
      const headers: Record<string, string> = { ...(requestOptions.headers ?? {}) };
      if (requestOptions.key !== undefined) headers.authorization = `Bearer ${requestOptions.key}`;
      let body: string | undefined = requestOptions.rawBody;
      if (requestOptions.body !== undefined) {
        body = JSON.stringify(requestOptions.body);
        headers['content-type'] ??= 'application/json';
      }
      const response = await fetch(url + path, { method, headers, ...(body !== undefined ? { body } : {}) });
      const text = await response.text();
      let parsed: unknown;
      try {
        parsed = text.length > 0 ? JSON.parse(text) : undefined;
      } catch {
        parsed = undefined;
      }
      return { status: response.status, headers: response.headers, body: parsed, text };
    },
  };
  return coffer;
}

/**
 * Starts Coffer on a database of this test file's own when testing on PostgreSQL. Workers claim
 * every due row in the database (webhook messages, for one), and test files run in parallel, each
 * with its own frozen clock and master key: sharing one database, one file's worker would act on
 * another's rows at its own idea of the time. On the embedded store every Coffer is isolated.
 */
export async function startIsolatedCoffer(options: Parameters<typeof startCoffer>[0] = {}): Promise<TestCoffer> {
  if (!usingPostgres()) return startCoffer(options);
  const base = process.env.COFFER_TEST_DATABASE_URL as string;
  const name = `coffer_iso_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(base);
  url.pathname = `/${name}`;
  // Everything in this file that opens the store (a second node, a child process) follows it.
  process.env.COFFER_TEST_DATABASE_URL = url.toString();
  const coffer = await startCoffer(options);
  const close = coffer.close;
  coffer.close = async () => {
    await close();
    process.env.COFFER_TEST_DATABASE_URL = base;
    const cleanup = new pg.Client({ connectionString: base });
    await cleanup.connect();
    await cleanup.query(`drop database if exists ${name} with (force)`);
    await cleanup.end();
  };
  return coffer;
}
