// SQL for the audit log. Entries are inserted unsealed; only the chaining worker gives them a
// chain position and hash, and only the retention worker removes them (both also enforced by a
// trigger). Searches are always scoped by account.
import { sql, type Kysely } from 'kysely';
import type { Database } from '../store/schema.js';
import type { CleanEntry } from './audit.entry.js';
import type { AuditCheckpointRow, AuditCheckpointsTable, AuditLogTable, AuditRow } from './audit.tables.js';
import type { Insertable } from 'kysely';

/** The row to insert, for a domain that writes its entry inside a statement of its own (a CTE). */
export function entryValues(entry: CleanEntry): Insertable<AuditLogTable> {
  return { ...entry, details: JSON.stringify(entry.details) };
}

export async function insertEntry(db: Kysely<Database>, entry: CleanEntry): Promise<void> {
  await db.insertInto('audit_log').values(entryValues(entry)).execute();
}

/**
 * Many entries in one statement with one parameter: the batch travels as a JSON array and is
 * unpacked by PostgreSQL, which is far cheaper than thousands of bound parameters.
 */
export async function insertEntries(
  db: Kysely<Database>,
  entries: readonly (CleanEntry & { seq?: number; prev_hash?: string; hash?: string })[],
): Promise<void> {
  if (entries.length === 0) return;
  const payload = JSON.stringify(entries);
  await sql`
    insert into audit_log (entry_id, occurred_at, actor_type, actor_id, action, object_type, object_id,
                           service_id, account_id, ip, user_agent, outcome, request_id, details, seq, prev_hash, hash)
    select entry_id, occurred_at, actor_type, actor_id, action, object_type, object_id,
           service_id, account_id, ip, user_agent, outcome, request_id, coalesce(details, '{}'::jsonb), seq, prev_hash, hash
    from jsonb_to_recordset(${payload}::jsonb) as x(
      entry_id text, occurred_at timestamptz, actor_type text, actor_id text, action text, object_type text,
      object_id text, service_id text, account_id text, ip text, user_agent text, outcome text, request_id text,
      details jsonb, seq bigint, prev_hash text, hash text)
  `.execute(db);
}

// --- The chain ------------------------------------------------------------------------------

export interface ChainHead {
  seq: number;
  hash: string;
}

/** The head, locked unless another node holds it (then no row). As a query, for the COPY writer (audit.copy.ts) to send. */
export function chainHeadLock(db: Kysely<Database>) {
  return db.selectFrom('audit_chain_head').select(['seq', 'hash']).where('id', '=', 1).forUpdate().skipLocked();
}

/** Locks the head unless another node holds it; undefined means someone else is sealing. */
export async function lockChainHead(trx: Kysely<Database>): Promise<ChainHead | undefined> {
  return chainHeadLock(trx).executeTakeFirst();
}

export async function readChainHead(db: Kysely<Database>): Promise<ChainHead> {
  return db.selectFrom('audit_chain_head').select(['seq', 'hash']).where('id', '=', 1).executeTakeFirstOrThrow();
}

export async function listUnsealed(trx: Kysely<Database>, limit: number): Promise<AuditRow[]> {
  return trx.selectFrom('audit_log').selectAll().where('seq', 'is', null).orderBy('id', 'asc').limit(limit).execute();
}

export async function sealEntries(trx: Kysely<Database>, seals: readonly { id: number; seq: number; prevHash: string; hash: string }[]): Promise<void> {
  if (seals.length === 0) return;
  const result = await sql`
    update audit_log set seq = s.seq, prev_hash = s.prev_hash, hash = s.hash
    from (select * from jsonb_to_recordset(${JSON.stringify(seals.map((s) => ({ id: s.id, seq: s.seq, prev_hash: s.prevHash, hash: s.hash })))}::jsonb)
          as x(id bigint, seq bigint, prev_hash text, hash text)) as s
    where audit_log.id = s.id and audit_log.seq is null
  `.execute(trx);
  if (Number(result.numAffectedRows ?? 0n) !== seals.length) throw new Error('audit entries changed while being sealed');
}

/** Moves the head from one position to the next: a compare-and-set, so it updates one row or none. */
export function chainHeadMove(db: Kysely<Database>, from: ChainHead, to: ChainHead) {
  return db.updateTable('audit_chain_head').set({ seq: to.seq, hash: to.hash }).where('id', '=', 1).where('seq', '=', from.seq).where('hash', '=', from.hash);
}

export const HEAD_MOVED = 'the audit chain head moved under its lock';

export async function moveChainHead(trx: Kysely<Database>, from: ChainHead, to: ChainHead): Promise<void> {
  const result = await chainHeadMove(trx, from, to).executeTakeFirst();
  if (Number(result.numUpdatedRows) !== 1) throw new Error(HEAD_MOVED);
}

export async function countUnsealedBefore(db: Kysely<Database>, before: Date): Promise<number> {
  const row = await db
    .selectFrom('audit_log')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('seq', 'is', null)
    .where('occurred_at', '<', before)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Sealed entries in chain order, after a position. */
export async function listSealedAfter(db: Kysely<Database>, afterSeq: number, limit: number): Promise<AuditRow[]> {
  return db.selectFrom('audit_log').selectAll().where('seq', '>', afterSeq).orderBy('seq', 'asc').limit(limit).execute();
}

export async function findBySeq(db: Kysely<Database>, seq: number): Promise<AuditRow | undefined> {
  return db.selectFrom('audit_log').selectAll().where('seq', '=', seq).executeTakeFirst();
}

export async function firstSealedSeq(db: Kysely<Database>): Promise<number | undefined> {
  const row = await db.selectFrom('audit_log').select((eb) => eb.fn.min('seq').as('s')).executeTakeFirst();
  return row?.s === null || row?.s === undefined ? undefined : Number(row.s);
}

// --- Checkpoints ------------------------------------------------------------------------------

export async function insertCheckpoint(db: Kysely<Database>, checkpoint: Insertable<AuditCheckpointsTable>): Promise<AuditCheckpointRow> {
  return db.insertInto('audit_checkpoints').values(checkpoint).returningAll().executeTakeFirstOrThrow();
}

export async function latestCheckpoint(db: Kysely<Database>, kind?: 'periodic' | 'cut'): Promise<AuditCheckpointRow | undefined> {
  let query = db.selectFrom('audit_checkpoints').selectAll();
  if (kind) query = query.where('kind', '=', kind);
  return query.orderBy('size', 'desc').orderBy('id', 'desc').limit(1).executeTakeFirst();
}

export async function listCheckpoints(db: Kysely<Database>): Promise<AuditCheckpointRow[]> {
  return db.selectFrom('audit_checkpoints').selectAll().orderBy('size', 'asc').orderBy('id', 'asc').execute();
}

// --- Retention ----------------------------------------------------------------------------------

/** The last chain position whose entry is older than the cut-off (and everything before it). */
export async function lastSealedSeqBefore(db: Kysely<Database>, before: Date, maxSeq: number): Promise<number | undefined> {
  // The chain follows time closely but not exactly (sealing lags a little): cut at the first
  // sealed entry that is not old enough, so only a prefix of the chain is ever removed.
  const young = await db
    .selectFrom('audit_log')
    .select((eb) => eb.fn.min('seq').as('s'))
    .where('seq', 'is not', null)
    .where('occurred_at', '>=', before)
    .executeTakeFirst();
  const firstYoung = young?.s === null || young?.s === undefined ? undefined : Number(young.s);
  const head = await readChainHead(db);
  const limit = Math.min(maxSeq, firstYoung === undefined ? head.seq : firstYoung - 1);
  return limit > 0 ? limit : undefined;
}

/** Deletes the chain prefix up to `throughSeq`; the trigger allows it only with the retention flag set. */
export async function deleteThrough(trx: Kysely<Database>, throughSeq: number): Promise<number> {
  await sql`select set_config('coffer.audit_retention', 'on', true)`.execute(trx);
  const result = await trx.deleteFrom('audit_log').where('seq', '<=', throughSeq).executeTakeFirst();
  await sql`select set_config('coffer.audit_retention', 'off', true)`.execute(trx);
  return Number(result.numDeletedRows);
}

// --- Search -------------------------------------------------------------------------------------

export interface AuditSearch {
  accountId: string;
  /** Also the service's own entries that belong to no account (its team, invites): the console's view. */
  serviceId?: string | undefined;
  actorId?: string | undefined;
  action?: string | undefined;
  objectType?: string | undefined;
  objectId?: string | undefined;
  from?: Date | undefined;
  to?: Date | undefined;
  beforeId?: number | undefined;
  limit: number;
}

export async function searchByAccount(db: Kysely<Database>, search: AuditSearch): Promise<AuditRow[]> {
  const serviceId = search.serviceId;
  let query = db
    .selectFrom('audit_log')
    .selectAll()
    .where((eb) =>
      serviceId === undefined
        ? eb('account_id', '=', search.accountId)
        : eb.or([eb('account_id', '=', search.accountId), eb.and([eb('account_id', 'is', null), eb('service_id', '=', serviceId)])]),
    );
  if (search.actorId !== undefined) query = query.where('actor_id', '=', search.actorId);
  if (search.action !== undefined) {
    // `payment.*` finds every payment action; anything else is an exact match.
    query = search.action.endsWith('.*')
      ? query.where('action', 'like', `${search.action.slice(0, -2).replace(/[\\%_]/g, '\\$&')}.%`)
      : query.where('action', '=', search.action);
  }
  if (search.objectType !== undefined) query = query.where('object_type', '=', search.objectType);
  if (search.objectId !== undefined) query = query.where('object_id', '=', search.objectId);
  if (search.from !== undefined) query = query.where('occurred_at', '>=', search.from);
  if (search.to !== undefined) query = query.where('occurred_at', '<', search.to);
  if (search.beforeId !== undefined) query = query.where('id', '<', search.beforeId);
  return query.orderBy('id', 'desc').limit(search.limit).execute();
}

export async function listSealedSince(db: Kysely<Database>, since: Date | undefined, afterSeq: number, limit: number): Promise<AuditRow[]> {
  let query = db.selectFrom('audit_log').selectAll().where('seq', '>', afterSeq);
  if (since !== undefined) query = query.where('occurred_at', '>=', since);
  return query.orderBy('seq', 'asc').limit(limit).execute();
}
