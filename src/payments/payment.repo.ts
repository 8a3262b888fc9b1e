// SQL for payments and their payer tokens and idempotency keys. Finders name their scope
// (ByAccountAndId); a state change is compare-and-set on status, and zero rows means the
// payment was no longer in the state the caller saw.
import { sql, type Insertable, type Kysely, type Updateable } from 'kysely';
import type { Database } from '../store/schema.js';
import type { IdempotentOperation, NewPaymentAccountSettings, PaymentAccountSettingsRow, PaymentRow, PaymentsTable } from './payment.tables.js';
import type { PaymentState } from './payment.machine.js';
import { entryValues } from '../audit/audit.repo.js';
import { insertShape, runCachedStatement } from '../store/statement-cache.js';
import type { CleanEntry } from '../audit/audit.entry.js';

type Db = Kysely<Database>;

export async function insertPayment(db: Db, payment: Insertable<PaymentsTable>): Promise<void> {
  await db.insertInto('payments').values(payment).execute();
}

export async function findPaymentByAccountAndId(db: Db, accountId: string, id: string): Promise<PaymentRow | undefined> {
  return db.selectFrom('payments').selectAll().where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst();
}

/** For the payer's side, which holds a payment id bound to its session and no account. */
export async function findPaymentById(db: Db, id: string): Promise<PaymentRow | undefined> {
  return db.selectFrom('payments').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function lockPaymentByAccountAndId(db: Db, accountId: string, id: string): Promise<PaymentRow | undefined> {
  return db.selectFrom('payments').selectAll().where('account_id', '=', accountId).where('id', '=', id).forUpdate().executeTakeFirst();
}

export type PaymentChanges = Omit<Updateable<PaymentsTable>, 'id' | 'account_id' | 'service_id' | 'status' | 'version' | 'updated_at' | 'created_at'>;

/** Moves a payment from one state to another; false when it was not in `from` any more. */
export async function compareAndSetStatus(db: Db, id: string, from: PaymentState, to: PaymentState, at: Date, changes: PaymentChanges = {}): Promise<boolean> {
  const result = await db
    .updateTable('payments')
    .set((eb) => ({ ...changes, status: to, updated_at: at, version: eb('version', '+', 1) }))
    .where('id', '=', id)
    .where('status', '=', from)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export async function addRefundedAmount(db: Db, id: string, delta: number): Promise<void> {
  await db
    .updateTable('payments')
    .set((eb) => ({ refunded_amount: eb('refunded_amount', '+', delta) }))
    .where('id', '=', id)
    .execute();
}

export async function findSettings(db: Db, accountId: string): Promise<PaymentAccountSettingsRow | undefined> {
  return db.selectFrom('payment_account_settings').selectAll().where('account_id', '=', accountId).executeTakeFirst();
}

/** Sets the given features of an account, leaving the others as they were (or their defaults). */
export async function upsertSettings(db: Db, settings: { account_id: string } & Partial<Omit<NewPaymentAccountSettings, 'account_id'>>): Promise<void> {
  const { account_id: _accountId, ...changes } = settings;
  const query = db.insertInto('payment_account_settings').values(settings);
  await (Object.keys(changes).length === 0 ? query.onConflict((oc) => oc.column('account_id').doNothing()) : query.onConflict((oc) => oc.column('account_id').doUpdateSet(changes))).execute();
}

export async function findServiceName(db: Db, serviceId: string): Promise<string | undefined> {
  const row = await db.selectFrom('services').select('name').where('id', '=', serviceId).executeTakeFirst();
  return row?.name;
}

// ---- payer tokens

export async function insertToken(db: Db, token: { tokenHash: string; paymentId: string; accountId: string; at: Date }): Promise<void> {
  await db
    .insertInto('payment_tokens')
    .values({ token_hash: token.tokenHash, payment_id: token.paymentId, account_id: token.accountId, created_at: token.at, used_at: null })
    .execute();
}

/** Marks an unused token used; returns its payment when this call was the one that used it. */
export async function markTokenUsed(db: Db, tokenHash: string, at: Date): Promise<string | undefined> {
  const row = await db
    .updateTable('payment_tokens')
    .set({ used_at: at })
    .where('token_hash', '=', tokenHash)
    .where('used_at', 'is', null)
    .returning('payment_id')
    .executeTakeFirst();
  return row?.payment_id;
}

export async function findToken(db: Db, tokenHash: string): Promise<{ payment_id: string; used_at: Date | null } | undefined> {
  return db.selectFrom('payment_tokens').select(['payment_id', 'used_at']).where('token_hash', '=', tokenHash).executeTakeFirst();
}

export async function deleteTokensCreatedBefore(db: Db, before: Date, limit: number): Promise<number> {
  const result = await db
    .deleteFrom('payment_tokens')
    .where('token_hash', 'in', (eb) => eb.selectFrom('payment_tokens').select('token_hash').where('created_at', '<', before).limit(limit))
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

// ---- idempotency keys

export interface IdempotencyClaim {
  accountId: string;
  operation: IdempotentOperation;
  key: string;
  requestHash: string;
  paymentId: string;
  at: Date;
  /** Claims older than this are forgotten (24 hours). */
  expiredBefore: Date;
}

/** Takes the key for this request; false when the account already used it for this operation. */
export async function claimIdempotencyKey(db: Db, claim: IdempotencyClaim): Promise<boolean> {
  await db
    .deleteFrom('payment_idempotency_keys')
    .where('account_id', '=', claim.accountId)
    .where('operation', '=', claim.operation)
    .where('idempotency_key', '=', claim.key)
    .where('created_at', '<', claim.expiredBefore)
    .execute();
  const result = await db
    .insertInto('payment_idempotency_keys')
    .values({
      account_id: claim.accountId,
      operation: claim.operation,
      idempotency_key: claim.key,
      request_hash: claim.requestHash,
      payment_id: claim.paymentId,
      resource_id: null,
      created_at: claim.at,
    })
    .onConflict((oc) => oc.columns(['account_id', 'operation', 'idempotency_key']).doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0n) === 1;
}

export async function findIdempotencyKey(
  db: Db,
  accountId: string,
  operation: IdempotentOperation,
  key: string,
  notBefore: Date,
): Promise<{ request_hash: string; payment_id: string; resource_id: string | null } | undefined> {
  return db
    .selectFrom('payment_idempotency_keys')
    .select(['request_hash', 'payment_id', 'resource_id'])
    .where('account_id', '=', accountId)
    .where('operation', '=', operation)
    .where('idempotency_key', '=', key)
    .where('created_at', '>=', notBefore)
    .executeTakeFirst();
}

export async function completeIdempotencyKey(db: Db, accountId: string, operation: IdempotentOperation, key: string, resourceId: string): Promise<void> {
  await db
    .updateTable('payment_idempotency_keys')
    .set({ resource_id: resourceId })
    .where('account_id', '=', accountId)
    .where('operation', '=', operation)
    .where('idempotency_key', '=', key)
    .execute();
}

/** Gives a key back when its request failed, so the client may retry with it. */
export async function releaseIdempotencyKey(db: Db, accountId: string, operation: IdempotentOperation, key: string): Promise<void> {
  await db
    .deleteFrom('payment_idempotency_keys')
    .where('account_id', '=', accountId)
    .where('operation', '=', operation)
    .where('idempotency_key', '=', key)
    .where('resource_id', 'is', null)
    .execute();
}

export async function deleteIdempotencyKeysBefore(db: Db, before: Date, limit: number): Promise<number> {
  const result = await db
    .deleteFrom('payment_idempotency_keys')
    .where(
      sql<boolean>`(account_id, operation, idempotency_key) in (select account_id, operation, idempotency_key from payment_idempotency_keys where created_at < ${before} limit ${limit})`,
    )
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

// ---- search

export interface PaymentSearch {
  accountId: string;
  reference?: string | undefined;
  emailIndex?: string | undefined;
  cardholderNameIndex?: string | undefined;
  states?: PaymentState[] | undefined;
  cardBrand?: string | undefined;
  fromDate?: Date | undefined;
  toDate?: Date | undefined;
  firstDigits?: string | undefined;
  lastDigits?: string | undefined;
  agreementId?: string | undefined;
  capturedFrom?: Date | undefined;
  capturedTo?: Date | undefined;
}

function searchQuery(db: Db, search: PaymentSearch) {
  let query = db.selectFrom('payments').where('account_id', '=', search.accountId);
  if (search.reference !== undefined) query = query.where(sql<string>`lower(reference)`, '=', search.reference.toLowerCase());
  if (search.emailIndex !== undefined) query = query.where('email_index', '=', search.emailIndex);
  if (search.cardholderNameIndex !== undefined) query = query.where('cardholder_name_index', '=', search.cardholderNameIndex);
  if (search.states !== undefined) query = query.where('status', 'in', search.states);
  if (search.cardBrand !== undefined) query = query.where('card_brand', '=', search.cardBrand);
  if (search.fromDate !== undefined) query = query.where('created_at', '>=', search.fromDate);
  if (search.toDate !== undefined) query = query.where('created_at', '<', search.toDate);
  if (search.firstDigits !== undefined) query = query.where('card_first_digits', '=', search.firstDigits);
  if (search.lastDigits !== undefined) query = query.where('card_last_digits', '=', search.lastDigits);
  if (search.agreementId !== undefined) query = query.where('agreement_id', '=', search.agreementId);
  if (search.capturedFrom !== undefined) query = query.where('captured_at', '>=', search.capturedFrom);
  if (search.capturedTo !== undefined) query = query.where('captured_at', '<', search.capturedTo);
  return query;
}

export async function searchPayments(db: Db, search: PaymentSearch, page: { offset: number; limit: number }): Promise<{ total: number; rows: PaymentRow[] }> {
  const countRow = await searchQuery(db, search).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  const total = Number(countRow.n);
  if (total === 0 || page.offset >= total) return { total, rows: [] };
  const rows = await searchQuery(db, search).selectAll().orderBy('created_at', 'desc').orderBy('id', 'desc').offset(page.offset).limit(page.limit).execute();
  return { total, rows };
}

// ---- workers

/** Locks a batch of payments in the given states created before the cut-off, skipping rows other nodes hold. */
export async function lockExpirable(db: Db, state: PaymentState, createdBefore: Date, limit: number): Promise<PaymentRow[]> {
  return db
    .selectFrom('payments')
    .selectAll()
    .where('status', '=', state)
    .where('created_at', '<', createdBefore)
    .orderBy('created_at')
    .limit(limit)
    .forUpdate()
    .skipLocked()
    .execute();
}

/** Locks in-flight payments not touched since the cut-off. */
export async function lockStuck(db: Db, states: readonly PaymentState[], updatedBefore: Date, limit: number): Promise<PaymentRow[]> {
  return db
    .selectFrom('payments')
    .selectAll()
    .where('status', 'in', [...states])
    .where('updated_at', '<', updatedBefore)
    .orderBy('updated_at')
    .limit(limit)
    .forUpdate()
    .skipLocked()
    .execute();
}

/** Pushes updated_at forward so other sweepers leave a row alone while this node retries it. */
export async function touchInFlight(db: Db, id: string, state: PaymentState, at: Date): Promise<boolean> {
  const result = await db.updateTable('payments').set({ updated_at: at }).where('id', '=', id).where('status', '=', state).executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

// ---- rate limits

/**
 * Counts one request in a bucket's window and returns the count so far (atomic across nodes).
 * Every request of an account upserts the same row, so one request at a time holds its lock,
 * until its commit: with each commit waiting for its WAL flush, the flush set the ceiling on an
 * account's request rate (bench/payments.bench.ts, docs/benchmarks.md). So this statement's own
 * transaction commits without waiting for the flush (synchronous_commit off, for it alone): a
 * crash may forget the last few milliseconds of counts of a one-second window, which a rate
 * limit can afford. Inside another transaction the setting would reach that one too: refused.
 */
export async function countRequest(db: Db, bucket: string, windowStart: Date, by = 1): Promise<number> {
  if (db.isTransaction) throw new TypeError('countRequest runs in a transaction of its own');
  const result = await sql<{ count: number }>`
    with async_commit as (select set_config('synchronous_commit', 'off', true))
    insert into rate_limit_counters (bucket, window_start, count)
    select ${bucket}, ${windowStart}, ${by}::integer from async_commit
    on conflict (bucket, window_start) do update set count = rate_limit_counters.count + excluded.count
    returning count
  `.execute(db);
  return Number(result.rows[0]!.count);
}

export async function deleteRateWindowsBefore(db: Db, before: Date, limit: number): Promise<number> {
  const result = await db
    .deleteFrom('rate_limit_counters')
    .where(sql<boolean>`(bucket, window_start) in (select bucket, window_start from rate_limit_counters where window_start < ${before} limit ${limit})`)
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

// ---- create in one round trip

export interface NewPaymentEvent {
  id: string;
  eventType: string;
  occurredAt: Date;
  data: Record<string, unknown>;
}

/**
 * Inserts a new payment, its payment_created domain event and (web mode) its first payer token
 * in ONE statement: data-modifying CTEs are atomic like a transaction, and cost one round trip
 * instead of five. The event row has the shape recordDomainEvent writes.
 */
export async function insertNewPayment(db: Db, payment: Insertable<PaymentsTable>, event: NewPaymentEvent, tokenHash: string | undefined, audit: CleanEntry): Promise<void> {
  const auditRow = entryValues(audit);
  const eventRow = {
    id: event.id,
    service_id: payment.service_id,
    account_id: payment.account_id,
    resource_type: 'payment',
    resource_id: payment.id,
    event_type: event.eventType,
    occurred_at: event.occurredAt,
    data: JSON.stringify(event.data),
  };
  const tokenRow = tokenHash === undefined ? undefined : { token_hash: tokenHash, payment_id: payment.id, account_id: payment.account_id, created_at: event.occurredAt, used_at: null };
  const build = () => {
    const withPaymentAndEvent = db
      .with('new_payment', (qb) => qb.insertInto('payments').values(payment).returning('id'))
      // PostgreSQL runs every data-modifying CTE to completion, read or not: the audit entry is in the same statement.
      .with('new_audit', (qb) => qb.insertInto('audit_log').values(auditRow).returning('id'))
      .with('new_event', (qb) => qb.insertInto('domain_events').values(eventRow).returning('id'));
    return tokenRow === undefined
      ? withPaymentAndEvent.selectFrom(['new_payment', 'new_event']).select('new_payment.id')
      : withPaymentAndEvent.insertInto('payment_tokens').values(tokenRow);
  };
  // Built once per shape (which columns, with or without a token): a create is the hottest write.
  // Kysely leaves out a column whose value is undefined, so the shape names the defined ones.
  const { shape, parameters } = insertShape('insertNewPayment', tokenRow === undefined ? [payment, auditRow, eventRow] : [payment, auditRow, eventRow, tokenRow]);
  await runCachedStatement(db, shape, build, parameters);
}
