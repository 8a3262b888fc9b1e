// SQL for webhooks. Finders name their tenant scope (account); state changes are
// compare-and-set, and zero rows changed means the row was not in the state the caller expected.
import { sql, type Insertable, type Kysely } from 'kysely';
import type { Database, DomainEventRow } from '../store/schema.js';
import type {
  EndpointStatus,
  WebhookAttemptRow,
  WebhookAttemptsTable,
  WebhookEndpointRow,
  WebhookEndpointsTable,
  WebhookMessageRow,
  WebhookMessagesTable,
  WebhookSecretRow,
} from './webhook.tables.js';

type Db = Kysely<Database>;
const changed = (result: { numUpdatedRows: bigint }): boolean => Number(result.numUpdatedRows) > 0;

// Endpoints ----------------------------------------------------------------------------------

export async function insertEndpoint(db: Db, endpoint: Insertable<WebhookEndpointsTable>): Promise<void> {
  await db.insertInto('webhook_endpoints').values(endpoint).execute();
}

export async function findEndpointByAccountAndId(db: Db, accountId: string, id: string): Promise<WebhookEndpointRow | undefined> {
  return db.selectFrom('webhook_endpoints').selectAll().where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst();
}

export async function findEndpointById(db: Db, id: string): Promise<WebhookEndpointRow | undefined> {
  return db.selectFrom('webhook_endpoints').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function listEndpointsByAccount(db: Db, accountId: string): Promise<WebhookEndpointRow[]> {
  return db.selectFrom('webhook_endpoints').selectAll().where('account_id', '=', accountId).orderBy('created_at', 'desc').orderBy('id').execute();
}

export async function listEndpointsByService(db: Db, serviceId: string): Promise<WebhookEndpointRow[]> {
  return db.selectFrom('webhook_endpoints').selectAll().where('service_id', '=', serviceId).orderBy('created_at', 'desc').orderBy('id').execute();
}

export interface EndpointChanges {
  url?: string;
  description?: string;
  event_types?: string[];
  status?: EndpointStatus;
}

/** Applies a change if the endpoint is still at `version`; a reactivation clears the failure record. */
export async function updateEndpoint(db: Db, accountId: string, id: string, version: number, changes: EndpointChanges, at: Date): Promise<boolean> {
  const reactivating = changes.status === 'active';
  const result = await db
    .updateTable('webhook_endpoints')
    .set((eb) => ({
      ...changes,
      ...(changes.status !== undefined && changes.status !== 'disabled' ? { disabled_at: null, disabled_reason: null } : {}),
      ...(reactivating ? { failing_since: null } : {}),
      updated_at: at,
      version: eb('version', '+', 1),
    }))
    .where('account_id', '=', accountId)
    .where('id', '=', id)
    .where('version', '=', version)
    .executeTakeFirst();
  return changed(result);
}

/** Active endpoints of the account that want this type and existed when the event happened. */
export async function findSubscribedEndpoints(db: Db, accountId: string, eventType: string, occurredAt: Date): Promise<WebhookEndpointRow[]> {
  return db
    .selectFrom('webhook_endpoints')
    .selectAll()
    .where('account_id', '=', accountId)
    .where('status', '=', 'active')
    .where('created_at', '<=', occurredAt)
    .where(sql<boolean>`${eventType} = any(event_types)`)
    .orderBy('id')
    .execute();
}

/**
 * Locks the endpoint row for an attempt's outcome. Taken first, so every transaction that
 * touches an endpoint and its messages does so in the same order (no deadlock with one that
 * disables the endpoint and abandons its messages).
 */
export async function lockEndpointForOutcome(db: Db, id: string): Promise<void> {
  await db.selectFrom('webhook_endpoints').select('id').where('id', '=', id).forNoKeyUpdate().execute();
}

export async function recordEndpointSuccess(db: Db, id: string, at: Date): Promise<void> {
  await db.updateTable('webhook_endpoints').set({ failing_since: null, last_success_at: at }).where('id', '=', id).execute();
}

/** Notes a failure; returns since when the endpoint has been failing without a success. */
export async function recordEndpointFailure(db: Db, id: string, at: Date): Promise<Date | undefined> {
  const row = await db
    .updateTable('webhook_endpoints')
    .set((eb) => ({ failing_since: eb.fn.coalesce('failing_since', eb.val(at)) }))
    .where('id', '=', id)
    .returning('failing_since')
    .executeTakeFirst();
  return row?.failing_since ?? undefined;
}

/** Disables an active endpoint; false if it was not active (already disabled, or switched off). */
export async function disableEndpoint(db: Db, id: string, at: Date, reason: string): Promise<boolean> {
  const result = await db
    .updateTable('webhook_endpoints')
    .set((eb) => ({ status: 'disabled', disabled_at: at, disabled_reason: reason, updated_at: at, version: eb('version', '+', 1) }))
    .where('id', '=', id)
    .where('status', '=', 'active')
    .executeTakeFirst();
  return changed(result);
}

// Secrets ------------------------------------------------------------------------------------

export async function insertSecret(db: Db, secret: WebhookSecretRow): Promise<void> {
  await db.insertInto('webhook_secrets').values(secret).execute();
}

/** The secrets that sign now, oldest first: retiring ones (soonest to end first), then the current one. */
export async function listLiveSecrets(db: Db, endpointId: string, now: Date): Promise<WebhookSecretRow[]> {
  return db
    .selectFrom('webhook_secrets')
    .selectAll()
    .where('endpoint_id', '=', endpointId)
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
    .orderBy(sql`expires_at asc nulls last`)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
}

/** Ends every other secret of the endpoint at `at` (or sooner, if it was ending sooner). */
export async function expireOtherSecrets(db: Db, endpointId: string, keepId: string, at: Date): Promise<void> {
  await db
    .updateTable('webhook_secrets')
    .set((eb) => ({ expires_at: sql<Date>`least(coalesce(${eb.ref('expires_at')}, ${at}), ${at})` }))
    .where('endpoint_id', '=', endpointId)
    .where('id', '!=', keepId)
    .execute();
}

export async function lockEndpoint(db: Db, accountId: string, id: string): Promise<WebhookEndpointRow | undefined> {
  return db.selectFrom('webhook_endpoints').selectAll().where('account_id', '=', accountId).where('id', '=', id).forUpdate().executeTakeFirst();
}

// Fan-out ------------------------------------------------------------------------------------

export interface FanoutCursor {
  lastTxId: string;
  lastSeq: number;
}

/** Claims the fan-out cursor for this transaction; undefined when another node holds it. */
export async function lockFanoutCursor(trx: Db): Promise<FanoutCursor | undefined> {
  const row = await trx
    .selectFrom('webhook_fanout_cursor')
    .select([sql<string>`last_tx_id::text`.as('last_tx_id'), 'last_seq'])
    .where('name', '=', 'webhooks')
    .forUpdate()
    .skipLocked()
    .executeTakeFirst();
  return row ? { lastTxId: row.last_tx_id, lastSeq: row.last_seq } : undefined;
}

export type FinalEvent = DomainEventRow & { tx_id: string };

/**
 * Events after the cursor whose writing transaction has ended, in (tx_id, seq) order. Every
 * transaction with an id below pg_snapshot_xmin has finished, so these events are final: none
 * can still appear before them in this order.
 */
export async function listFinalEventsAfter(trx: Db, cursor: FanoutCursor, limit: number): Promise<FinalEvent[]> {
  const result = await sql<FinalEvent>`
    select seq, id, service_id, account_id, resource_type, resource_id, event_type, occurred_at, data, tx_id::text as tx_id
    from domain_events
    where (tx_id, seq) > (${cursor.lastTxId}::xid8, ${cursor.lastSeq}::bigint)
      and tx_id < pg_snapshot_xmin(pg_current_snapshot())
    order by tx_id, seq
    limit ${limit}
  `.execute(trx);
  return result.rows;
}

export async function advanceFanoutCursor(trx: Db, cursor: FanoutCursor): Promise<void> {
  await sql`update webhook_fanout_cursor set last_tx_id = ${cursor.lastTxId}::xid8, last_seq = ${cursor.lastSeq} where name = 'webhooks'`.execute(trx);
}

/** Inserts a message unless this endpoint already has one for this event (a re-run of the fan-out). */
export async function insertMessage(db: Db, message: Insertable<WebhookMessagesTable>): Promise<boolean> {
  const result = await db
    .insertInto('webhook_messages')
    .values(message)
    .onConflict((oc) => oc.columns(['endpoint_id', 'event_id']).doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0n) === 1;
}

// Delivery -----------------------------------------------------------------------------------

/**
 * Claims up to `limit` due messages of active endpoints for one worker. SKIP LOCKED keeps two
 * workers off the same rows; moving next_attempt_at to the lease's end keeps them off once
 * committed; a worker that dies leaves the message to be claimed again when the lease runs out.
 */
export async function claimDueMessages(db: Db, now: Date, leaseUntil: Date, claimId: string, limit: number): Promise<WebhookMessageRow[]> {
  const result = await sql<WebhookMessageRow>`
    with due as (
      select m.id from webhook_messages m
      join webhook_endpoints e on e.id = m.endpoint_id
      where m.status = 'pending' and m.next_attempt_at <= ${now} and e.status = 'active'
      order by m.next_attempt_at
      limit ${limit}
      for update of m skip locked
    )
    update webhook_messages m
    set next_attempt_at = ${leaseUntil}, claim_id = ${claimId}, attempt_count = m.attempt_count + 1,
        schedule_attempts = m.schedule_attempts + 1, updated_at = ${now}
    from due where m.id = due.id
    returning m.*
  `.execute(db);
  return result.rows;
}

export async function insertAttempt(db: Db, attempt: Insertable<WebhookAttemptsTable>): Promise<void> {
  await db.insertInto('webhook_attempts').values(attempt).execute();
}

export type MessageOutcome =
  | { status: 'delivered'; at: Date; statusCode: number | null }
  | { status: 'pending'; at: Date; statusCode: number | null; nextAttemptAt: Date }
  | { status: 'abandoned'; at: Date; statusCode: number | null };

/** Records an attempt's outcome while the claim is still this worker's; false if it was lost. */
export async function settleClaim(db: Db, id: string, claimId: string, outcome: MessageOutcome): Promise<boolean> {
  const result = await db
    .updateTable('webhook_messages')
    .set({
      status: outcome.status,
      next_attempt_at: outcome.status === 'pending' ? outcome.nextAttemptAt : null,
      delivered_at: outcome.status === 'delivered' ? outcome.at : null,
      last_attempt_at: outcome.at,
      last_status_code: outcome.statusCode,
      claim_id: null,
      updated_at: outcome.at,
    })
    .where('id', '=', id)
    .where('claim_id', '=', claimId)
    .where('status', '=', 'pending')
    .executeTakeFirst();
  return changed(result);
}

/** Abandons what an endpoint still had to send (it was disabled). */
export async function abandonPendingForEndpoint(db: Db, endpointId: string, at: Date): Promise<void> {
  await db
    .updateTable('webhook_messages')
    .set({ status: 'abandoned', next_attempt_at: null, claim_id: null, updated_at: at })
    .where('endpoint_id', '=', endpointId)
    .where('status', '=', 'pending')
    .execute();
}

/** Queues a message to be sent again now, with a fresh retry schedule; false while a worker holds it. */
export async function requeueMessage(db: Db, accountId: string, id: string, at: Date): Promise<boolean> {
  const result = await db
    .updateTable('webhook_messages')
    .set({ status: 'pending', next_attempt_at: at, schedule_start: at, schedule_attempts: 0, updated_at: at })
    .where('account_id', '=', accountId)
    .where('id', '=', id)
    .where('claim_id', 'is', null)
    .executeTakeFirst();
  return changed(result);
}

// Reading messages and attempts ------------------------------------------------------------------

export async function findMessageByAccountAndId(db: Db, accountId: string, id: string): Promise<WebhookMessageRow | undefined> {
  return db.selectFrom('webhook_messages').selectAll().where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst();
}

export async function listMessagesByEndpoint(
  db: Db,
  accountId: string,
  endpointId: string,
  filter: { status?: string | undefined; limit: number },
): Promise<WebhookMessageRow[]> {
  let query = db.selectFrom('webhook_messages').selectAll().where('account_id', '=', accountId).where('endpoint_id', '=', endpointId);
  if (filter.status !== undefined) query = query.where('status', '=', filter.status as WebhookMessageRow['status']);
  return query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(filter.limit).execute();
}

export async function listMessagesByResource(db: Db, accountId: string, resourceType: string, resourceId: string): Promise<WebhookMessageRow[]> {
  return db
    .selectFrom('webhook_messages')
    .selectAll()
    .where('account_id', '=', accountId)
    .where('resource_type', '=', resourceType)
    .where('resource_id', '=', resourceId)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
}

export async function listAttemptsByMessages(db: Db, accountId: string, messageIds: readonly string[]): Promise<WebhookAttemptRow[]> {
  if (messageIds.length === 0) return [];
  return db
    .selectFrom('webhook_attempts')
    .selectAll()
    .where('account_id', '=', accountId)
    .where('message_id', 'in', messageIds)
    .orderBy('attempted_at')
    .orderBy('attempt_number')
    .execute();
}

export async function listAttemptsByEndpoint(db: Db, accountId: string, endpointId: string, limit: number): Promise<WebhookAttemptRow[]> {
  return db
    .selectFrom('webhook_attempts')
    .selectAll()
    .where('account_id', '=', accountId)
    .where('endpoint_id', '=', endpointId)
    .orderBy('attempted_at', 'desc')
    .orderBy('attempt_number', 'desc')
    .limit(limit)
    .execute();
}
