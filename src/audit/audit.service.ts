// Recording audit entries. A change records its entry with the transaction that makes it
// (`recordAudit(trx, …)`), so there is never a change without its entry nor an entry for a
// change that rolled back. Entries that record no change (reads, refused requests) go through
// the batched writer instead (audit.writer.ts), which costs a request nothing but a push.
import type { Kysely } from 'kysely';
import type { AppContext } from '../platform/context.js';
import { unprocessable } from '../platform/errors.js';
import { sortableId } from '../platform/random.js';
import type { Database } from '../store/schema.js';
import { cleanEntry, type AuditEntry, type CleanEntry } from './audit.entry.js';
import { currentOrigin } from './audit.origin.js';
import * as repo from './audit.repo.js';
import type { AuditOutcome, AuditRow } from './audit.tables.js';

/** Fills who and where from the request or command in progress, then scrubs. */
export function prepareEntry(entry: AuditEntry): CleanEntry {
  const origin = currentOrigin();
  return cleanEntry(
    {
      ...entry,
      ip: entry.ip !== undefined ? entry.ip : (origin?.ip ?? null),
      userAgent: entry.userAgent !== undefined ? entry.userAgent : (origin?.userAgent ?? null),
      requestId: entry.requestId !== undefined ? entry.requestId : (origin?.requestId ?? null),
    },
    sortableId('aud'),
    origin?.actor(),
  );
}

/**
 * Records an entry. Pass the transaction that makes the change; on its own (reads, refusals)
 * pass the database. Throws on a malformed action name: a bug, never a client's mistake.
 */
export async function recordAudit(trx: Kysely<Database>, entry: AuditEntry): Promise<string> {
  const clean = prepareEntry(entry);
  await repo.insertEntry(trx, clean);
  return clean.entry_id;
}

/**
 * Makes a one-statement change and records its entry in one transaction (or in the caller's,
 * when `db` already is one). `entry` sees the change's result and returns undefined when
 * nothing changed (a compare-and-set that lost), so no entry is written for it.
 */
export async function changeWithAudit<T>(
  db: Kysely<Database>,
  change: (trx: Kysely<Database>) => Promise<T>,
  entry: (result: T) => AuditEntry | undefined,
): Promise<T> {
  const run = async (trx: Kysely<Database>): Promise<T> => {
    const result = await change(trx);
    const recorded = entry(result);
    if (recorded) await recordAudit(trx, recorded);
    return result;
  };
  return db.isTransaction ? run(db) : db.transaction().execute(run);
}

// --- Reading the log (itself audited: PCI DSS 10.2.1.3) ---------------------------------------

export interface AuditEntryView {
  id: string;
  seq: number | null;
  occurred_at: string;
  actor: { type: string; id: string };
  action: string;
  object: { type: string; id: string } | null;
  service_id: string | null;
  account_id: string | null;
  ip: string | null;
  user_agent: string | null;
  outcome: AuditOutcome;
  request_id: string | null;
  details: Record<string, unknown>;
  hash: string | null;
}

export function toEntryView(row: AuditRow): AuditEntryView {
  return {
    id: row.entry_id,
    seq: row.seq,
    occurred_at: row.occurred_at.toISOString(),
    actor: { type: row.actor_type, id: row.actor_id },
    action: row.action,
    object: row.object_type !== null && row.object_id !== null ? { type: row.object_type, id: row.object_id } : null,
    service_id: row.service_id,
    account_id: row.account_id,
    ip: row.ip,
    user_agent: row.user_agent,
    outcome: row.outcome,
    request_id: row.request_id,
    details: row.details,
    hash: row.hash,
  };
}

export interface AuditQuery {
  actor?: string | undefined;
  action?: string | undefined;
  objectType?: string | undefined;
  objectId?: string | undefined;
  from?: Date | undefined;
  to?: Date | undefined;
  cursor?: string | undefined;
  limit?: number | undefined;
}

const CURSOR = /^c(\d{1,15})$/;

function parseCursor(cursor: string | undefined): number | undefined {
  if (cursor === undefined) return undefined;
  const match = CURSOR.exec(cursor);
  if (!match) throw unprocessable('cursor is not one this API returned', 'cursor');
  return Number(match[1]);
}

/** The filter as the audit entry of a read keeps it. */
const shownFilter = (query: AuditQuery) => ({ ...query, from: query.from?.toISOString(), to: query.to?.toISOString() });

export interface AuditScope {
  serviceId: string;
  accountId: string;
  /** The console also shows the service's entries that belong to no account (team, invites). */
  withServiceEntries?: boolean;
}

function searchFor(scope: AuditScope, query: AuditQuery, beforeId: number | undefined, limit: number): repo.AuditSearch {
  return {
    accountId: scope.accountId,
    serviceId: scope.withServiceEntries ? scope.serviceId : undefined,
    actorId: query.actor,
    action: query.action,
    objectType: query.objectType,
    objectId: query.objectId,
    from: query.from,
    to: query.to,
    beforeId,
    limit,
  };
}

/** An account's own entries, newest first, a page at a time. Records that the log was read. */
export async function searchAuditForAccount(
  ctx: AppContext,
  scope: AuditScope,
  query: AuditQuery,
): Promise<{ results: AuditEntryView[]; next_cursor: string | null }> {
  const limit = Math.min(Math.max(query.limit ?? 50, 1), 500);
  const rows = await repo.searchByAccount(ctx.db, searchFor(scope, query, parseCursor(query.cursor), limit + 1));
  const page = rows.slice(0, limit);
  await recordAudit(ctx.db, {
    action: 'audit.read',
    serviceId: scope.serviceId,
    accountId: scope.accountId,
    at: ctx.clock.now(),
    details: { filter: shownFilter(query), returned: page.length },
  });
  const last = page[page.length - 1];
  return { results: page.map(toEntryView), next_cursor: rows.length > limit && last ? `c${last.id}` : null };
}

export const EXPORT_LIMIT = 100_000;
const EXPORT_PAGE = 2000;

/**
 * Every entry matching the filter, newest first, as JSON lines (one entry per line), up to
 * EXPORT_LIMIT. The export is recorded before the first line is read, with what was asked for;
 * an export that stops half-way was still an export.
 */
export async function* exportAuditForAccount(ctx: AppContext, scope: AuditScope, query: AuditQuery): AsyncGenerator<string> {
  await recordAudit(ctx.db, {
    action: 'audit.export',
    serviceId: scope.serviceId,
    accountId: scope.accountId,
    at: ctx.clock.now(),
    details: { filter: shownFilter(query), format: 'jsonl' },
  });
  let beforeId: number | undefined;
  for (let sent = 0; sent < EXPORT_LIMIT; ) {
    const rows = await repo.searchByAccount(ctx.db, searchFor(scope, query, beforeId, Math.min(EXPORT_PAGE, EXPORT_LIMIT - sent)));
    if (rows.length === 0) return;
    yield rows.map((row) => `${JSON.stringify(toEntryView(row))}\n`).join('');
    sent += rows.length;
    beforeId = rows[rows.length - 1]!.id;
  }
}
