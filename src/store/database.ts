// Opens the store: PostgreSQL through DATABASE_URL, or PGlite (embedded PostgreSQL) in the
// data directory, run on a thread of its own (embedded-client.ts). Both speak the same SQL, so
// migrations and queries are shared.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { EmbeddedThread, EmbeddedThreadDialect } from './embedded-client.js';
import { INT8_OID, parseInt8 } from './pg-types.js';
import { PreparingClient } from './prepared-client.js';
import type { Database } from './schema.js';

export type StoreKind = 'embedded' | 'postgres';

export interface Store {
  db: Kysely<Database>;
  kind: StoreKind;
  close(): Promise<void>;
}

export interface StoreOptions {
  databaseUrl?: string | undefined;
  /** Directory for the embedded store; `memory://` keeps it in memory (tests). */
  embeddedDir?: string | undefined;
  poolSize?: number;
}

// The connection string of each PostgreSQL store, so that a helper thread (the audit writer's)
// can open a connection of its own to the same database.
const connectionStrings = new WeakMap<Kysely<Database>, string>();

/** The connection string a PostgreSQL store was opened with; undefined for the embedded store. */
export function connectionStringOf(db: Kysely<Database>): string | undefined {
  return connectionStrings.get(db);
}

// The thread of each embedded store, which also writes the audit writer's batches.
const embeddedThreads = new WeakMap<Kysely<Database>, EmbeddedThread>();

/** The thread an embedded store runs on; undefined for PostgreSQL. */
export function embeddedThreadOf(db: Kysely<Database>): EmbeddedThread | undefined {
  return embeddedThreads.get(db);
}

export async function openStore(options: StoreOptions): Promise<Store> {
  if (options.databaseUrl) return openPostgres(options.databaseUrl, options.poolSize ?? 10);
  if (!options.embeddedDir) throw new TypeError('either databaseUrl or embeddedDir is needed');
  return openEmbedded(options.embeddedDir);
}

// bigint columns arrive as numbers (pg-types.ts); every other type as pg reads it.
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => (oid === INT8_OID ? parseInt8 : pg.types.getTypeParser(oid, format))) as typeof pg.types.getTypeParser,
};

/**
 * One connection, configured as the store's pool configures its own, for code that needs what
 * Kysely does not offer (COPY, in the audit writer's thread). The caller ends it.
 */
export async function connectPostgres(connectionString: string): Promise<pg.Client> {
  const client = new PreparingClient({ connectionString, types });
  await client.connect();
  return client;
}

function openPostgres(connectionString: string, max: number): Store {
  const pool = new pg.Pool({ connectionString, max, Client: PreparingClient, types });
  // An idle client losing its connection must not crash the process; the pool replaces it.
  pool.on('error', () => undefined);
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  connectionStrings.set(db, connectionString);
  return { db, kind: 'postgres', close: () => db.destroy() };
}

async function openEmbedded(dir: string): Promise<Store> {
  let dataDir: string | undefined;
  if (dir !== 'memory://') {
    dataDir = join(dir, 'pgdata');
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  }
  const thread = await EmbeddedThread.start(dataDir);
  const db = new Kysely<Database>({ dialect: new EmbeddedThreadDialect(thread) });
  embeddedThreads.set(db, thread);
  // Closing the database closes PGlite, in its thread, once every holder has let go of it.
  return { db, kind: 'embedded', close: () => db.destroy() };
}
