// Helpers for the audit tests: reading what was recorded, and stores of their own for tests
// that tamper with the chain (a shared PostgreSQL database would let them break other files).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { setImmediate as tick } from 'node:timers/promises';
import pg from 'pg';
import { ManualClock } from '../../src/platform/clock.js';
import type { AppContext } from '../../src/platform/context.js';
import { openStore, type Store } from '../../src/store/database.js';
import { migrateToLatest } from '../../src/store/migrate.js';
import { createLogger } from '../../src/main/logger.js';
import { SandboxProcessor } from '../../src/connectors/sandbox/sandbox.processor.js';
import { flushAudit } from '../../src/audit/audit.writer.js';
import type { AuditRow } from '../../src/audit/audit.tables.js';
import { usingPostgres } from '../support/harness.js';

type Filter = Partial<Pick<AuditRow, 'action' | 'request_id' | 'object_id' | 'actor_id' | 'account_id' | 'service_id'>>;

export async function auditRows(ctx: Pick<AppContext, 'db'>, filter: Filter): Promise<AuditRow[]> {
  await flushAudit(ctx.db);
  let query = ctx.db.selectFrom('audit_log').selectAll();
  for (const [column, value] of Object.entries(filter)) query = query.where(column as keyof Filter, '=', value as string);
  return query.orderBy('id').execute();
}

/**
 * The entries matching `filter`, once at least `count` exist. Request entries are written after
 * the response has been sent, so the test may get its answer a moment before the hook has run:
 * this yields to the event loop between looks (no timers), for a bounded number of turns.
 */
export async function waitForAudit(ctx: Pick<AppContext, 'db'>, filter: Filter, count = 1): Promise<AuditRow[]> {
  for (let turn = 0; turn < 200; turn++) {
    const rows = await auditRows(ctx, filter);
    if (rows.length >= count) return rows;
    await tick();
  }
  throw new Error(`no audit entry matching ${JSON.stringify(filter)}`);
}

export interface IsolatedStore {
  ctx: AppContext;
  clock: ManualClock;
  store: Store;
  /** Environment for running the CLI against this store (after close() on the embedded store). */
  env: Record<string, string>;
  close(): Promise<void>;
  reopen(): Promise<IsolatedStore>;
}

/** A store of the test's own: a fresh PGlite directory, or a fresh PostgreSQL database. */
export async function openIsolatedStore(existing?: { dir?: string; url?: string; masterKey: Buffer }): Promise<IsolatedStore> {
  const masterKey = existing?.masterKey ?? randomBytes(32);
  let url = existing?.url;
  let dir = existing?.dir;
  if (usingPostgres() && !url) {
    const base = new URL(process.env.COFFER_TEST_DATABASE_URL!);
    const name = `coffer_audit_${randomBytes(6).toString('hex')}`;
    const admin = new pg.Client({ connectionString: base.toString() });
    await admin.connect();
    await admin.query(`create database ${name}`);
    await admin.end();
    base.pathname = `/${name}`;
    url = base.toString();
  }
  if (!usingPostgres() && !dir) dir = mkdtempSync(join(tmpdir(), 'coffer-audit-'));
  const store = url ? await openStore({ databaseUrl: url, poolSize: 4 }) : await openStore({ embeddedDir: dir });
  await migrateToLatest(store.db);
  const clock = new ManualClock(new Date('2026-11-25T12:00:00.000Z'));
  const ctx: AppContext = {
    db: store.db,
    storeKind: store.kind,
    clock,
    log: createLogger('silent'),
    masterKey: { key: masterKey, fromEnvironment: true },
    cardProcessor: new SandboxProcessor(),
    baseUrl: 'http://127.0.0.1',
  } as AppContext;
  const env: Record<string, string> = { COFFER_MASTER_KEY: masterKey.toString('base64'), LOG_LEVEL: 'warn' };
  if (url) env.DATABASE_URL = url;
  if (dir) env.COFFER_DATA_DIR = dir;
  let closed = false;
  const isolated: IsolatedStore = {
    ctx,
    clock,
    store,
    env,
    async close() {
      if (closed) return;
      closed = true;
      await store.close();
    },
    async reopen() {
      await isolated.close();
      return openIsolatedStore({ ...(dir ? { dir } : {}), ...(url ? { url } : {}), masterKey });
    },
  };
  return isolated;
}

/** Removes an isolated store for good (after its last close). */
export async function dropIsolatedStore(store: IsolatedStore): Promise<void> {
  await store.close();
  if (store.env.COFFER_DATA_DIR) rmSync(store.env.COFFER_DATA_DIR, { recursive: true, force: true });
  if (store.env.DATABASE_URL) {
    const url = new URL(store.env.DATABASE_URL);
    const name = url.pathname.slice(1);
    url.pathname = '/postgres';
    const admin = new pg.Client({ connectionString: url.toString() });
    await admin.connect();
    await admin.query(`drop database if exists ${name} with (force)`);
    await admin.end();
  }
}
