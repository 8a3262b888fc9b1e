// SQL for refunds. Every finder names the account; status changes are compare-and-set.
import type { Insertable, Kysely } from 'kysely';
import type { Database } from '../store/schema.js';
import type { RefundRow, RefundsTable } from '../payments/payment.tables.js';

type Db = Kysely<Database>;

export async function insertRefund(db: Db, refund: Insertable<RefundsTable>): Promise<void> {
  await db.insertInto('refunds').values(refund).execute();
}

export async function findRefundByAccountAndId(db: Db, accountId: string, id: string): Promise<RefundRow | undefined> {
  return db.selectFrom('refunds').selectAll().where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst();
}

export async function findRefundByPaymentAndId(db: Db, accountId: string, paymentId: string, id: string): Promise<RefundRow | undefined> {
  return db
    .selectFrom('refunds')
    .selectAll()
    .where('account_id', '=', accountId)
    .where('payment_id', '=', paymentId)
    .where('id', '=', id)
    .executeTakeFirst();
}

export async function listRefundsByPayment(db: Db, accountId: string, paymentId: string): Promise<RefundRow[]> {
  return db
    .selectFrom('refunds')
    .selectAll()
    .where('account_id', '=', accountId)
    .where('payment_id', '=', paymentId)
    .orderBy('created_at', 'asc')
    .orderBy('id', 'asc')
    .execute();
}

/** Moves a refund out of `submitted`; false when another node already settled it. */
export async function settleRefund(db: Db, id: string, to: 'success' | 'error', at: Date, processorReference: string | null): Promise<boolean> {
  const result = await db
    .updateTable('refunds')
    .set({ status: to, updated_at: at, processor_reference: processorReference })
    .where('id', '=', id)
    .where('status', '=', 'submitted')
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export interface RefundSearch {
  accountId: string;
  fromDate?: Date | undefined;
  toDate?: Date | undefined;
  settledFrom?: Date | undefined;
  settledTo?: Date | undefined;
}

function searchQuery(db: Db, search: RefundSearch) {
  let query = db.selectFrom('refunds').where('account_id', '=', search.accountId);
  if (search.fromDate !== undefined) query = query.where('created_at', '>=', search.fromDate);
  if (search.toDate !== undefined) query = query.where('created_at', '<', search.toDate);
  // Settlement dates are reported only by Stripe; no refund of ours has one, so a settled-date
  // filter matches nothing rather than everything.
  if (search.settledFrom !== undefined || search.settledTo !== undefined) query = query.where('id', '=', '');
  return query;
}

export async function searchRefunds(db: Db, search: RefundSearch, page: { offset: number; limit: number }): Promise<{ total: number; rows: RefundRow[] }> {
  const countRow = await searchQuery(db, search).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  const total = Number(countRow.n);
  if (total === 0 || page.offset >= total) return { total, rows: [] };
  const rows = await searchQuery(db, search).selectAll().orderBy('created_at', 'desc').orderBy('id', 'desc').offset(page.offset).limit(page.limit).execute();
  return { total, rows };
}

/** In-flight refunds untouched since the cut-off, locked for this node only. */
export async function lockStuckRefunds(db: Db, updatedBefore: Date, limit: number): Promise<RefundRow[]> {
  return db
    .selectFrom('refunds')
    .selectAll()
    .where('status', '=', 'submitted')
    .where('updated_at', '<', updatedBefore)
    .orderBy('updated_at')
    .limit(limit)
    .forUpdate()
    .skipLocked()
    .execute();
}

export async function touchRefund(db: Db, id: string, at: Date): Promise<void> {
  await db.updateTable('refunds').set({ updated_at: at }).where('id', '=', id).where('status', '=', 'submitted').execute();
}
