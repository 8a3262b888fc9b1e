// How batches of request entries are written, by the audit writer thread on PostgreSQL and by
// PGlite's thread on the embedded store: COPY, in the same one transaction as writeBatch
// (audit.batch.ts) uses, sealed at once when the chain head is free.
//
// Why COPY: every API request leaves an entry, so this insert is PostgreSQL's biggest steady
// load. Unpacking a JSON batch (jsonb_to_recordset, or unnest of arrays: the same) and inserting
// the rows cost the backend ~40 µs an entry; COPY parses its plain text rows and inserts them
// without the executor in ~17 µs (docs/benchmarks.md, "Changed on 2026-12-08"). The batch's text
// is also cheaper to build than its JSON.
//
// The statements around the COPY are the repository's own (audit.repo.ts), compiled by Kysely
// and sent on the thread's connection, so the lock and the compare-and-set are the ones every
// node uses. On PGlite the rows go in as a blob (`from '/dev/blob'`), on PostgreSQL from stdin.
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DummyDriver, Kysely, PostgresAdapter, PostgresIntrospector, PostgresQueryCompiler, type Compilable } from 'kysely';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { Database } from '../store/schema.js';
import { sealBatch } from './audit.chain.js';
import type { CleanEntry } from './audit.entry.js';
import { chainHeadLock, chainHeadMove, HEAD_MOVED, type ChainHead } from './audit.repo.js';

type Row = CleanEntry & { seq?: number; prev_hash?: string; hash?: string };

const COLUMNS = [
  'entry_id',
  'occurred_at',
  'actor_type',
  'actor_id',
  'action',
  'object_type',
  'object_id',
  'service_id',
  'account_id',
  'ip',
  'user_agent',
  'outcome',
  'request_id',
  'details',
  'seq',
  'prev_hash',
  'hash',
] as const;

// Kysely that only writes SQL: the statements are sent on the raw connection below.
const sqlOnly = new Kysely<Database>({
  dialect: {
    createAdapter: () => new PostgresAdapter(),
    createDriver: () => new DummyDriver(),
    createIntrospector: (db) => new PostgresIntrospector(db),
    createQueryCompiler: () => new PostgresQueryCompiler(),
  },
});

// COPY's text format: a backslash, tab, newline or carriage return in a value is escaped, and
// \N is NULL. Cleaned entries hold no control characters, but details' JSON holds backslashes.
const NEEDS_ESCAPE = /[\\\t\n\r]/;
const ESCAPED: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

function field(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '\\N';
  const text = String(value);
  return NEEDS_ESCAPE.test(text) ? text.replace(/[\\\t\n\r]/g, (c) => ESCAPED[c]!) : text;
}

/** The batch as COPY text, one line per entry, columns in COLUMNS' order. */
export function copyText(rows: readonly Row[]): string {
  let text = '';
  for (const r of rows) {
    text +=
      `${field(r.entry_id)}\t${r.occurred_at.toISOString()}\t${field(r.actor_type)}\t${field(r.actor_id)}\t${field(r.action)}\t` +
      `${field(r.object_type)}\t${field(r.object_id)}\t${field(r.service_id)}\t${field(r.account_id)}\t${field(r.ip)}\t` +
      `${field(r.user_agent)}\t${field(r.outcome)}\t${field(r.request_id)}\t${field(JSON.stringify(r.details))}\t` +
      `${field(r.seq)}\t${field(r.prev_hash)}\t${field(r.hash)}\n`;
  }
  return text;
}

/** How a connection runs the batch's statements: PostgreSQL's client, or PGlite's. */
export interface CopyConnection {
  query(sql: string, parameters: readonly unknown[]): Promise<{ rows: unknown[]; rowCount: number }>;
  /** Runs `copy audit_log (…) from <source>` with the batch's text as its input. */
  copyIn(columnsList: string, text: string): Promise<void>;
}

const COLUMN_LIST = `audit_log (${COLUMNS.join(', ')})`;

function send<T>(connection: CopyConnection, query: Compilable<T>): Promise<{ rows: unknown[]; rowCount: number }> {
  const compiled = query.compile();
  return connection.query(compiled.sql, compiled.parameters);
}

/**
 * Writes a batch of cleaned entries in one transaction: sealed into the chain when the head is
 * free (SKIP LOCKED), else unsealed for the sealing worker, as writeBatch.
 */
export async function copyBatchOn(connection: CopyConnection, batch: CleanEntry[]): Promise<void> {
  if (batch.length === 0) return;
  await connection.query('begin', []);
  try {
    const head = (await send(connection, chainHeadLock(sqlOnly))).rows[0] as ChainHead | undefined;
    const sealed = head ? sealBatch(head, batch) : undefined;
    await connection.copyIn(COLUMN_LIST, copyText(sealed ? sealed.sealed : batch));
    if (head && sealed) {
      const moved = await send(connection, chainHeadMove(sqlOnly, head, sealed.head));
      if (moved.rowCount !== 1) throw new Error(HEAD_MOVED);
    }
    await connection.query('commit', []);
  } catch (err) {
    await connection.query('rollback', []).catch(() => undefined);
    throw err;
  }
}

/** The audit writer thread's connection to PostgreSQL: COPY from stdin, streamed. */
export function copyBatch(client: pg.ClientBase, batch: CleanEntry[]): Promise<void> {
  return copyBatchOn(
    {
      query: async (sql, parameters) => {
        const result = await client.query(sql, parameters as unknown[]);
        return { rows: result.rows, rowCount: result.rowCount ?? 0 };
      },
      copyIn: (columnsList, text) => pipeline(Readable.from([text]), client.query(copyFrom(`copy ${columnsList} from stdin`))),
    },
    batch,
  );
}
