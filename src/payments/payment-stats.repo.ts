// SQL for the console dashboard: one pass over an account's payments in a time range, counted
// per UTC day. Served by payments_by_account (account_id, created_at); always scoped by account.
import { sql, type Kysely } from 'kysely';
import type { Database } from '../store/schema.js';
import { externalState, PAYMENT_STATES, type PaymentState } from './payment.machine.js';

/** One UTC day's payments, by the day they were created. */
export interface DayCounts {
  /** YYYY-MM-DD (UTC). */
  day: string;
  created: number;
  succeeded: number;
  /** Minor units collected by the day's successful payments. */
  succeededAmount: number;
  /** Finished without success: rejected, expired, cancelled or in error. */
  unsuccessful: number;
}

const SUCCEEDED: PaymentState[] = PAYMENT_STATES.filter((s) => externalState(s).status === 'success');
const UNSUCCESSFUL: PaymentState[] = PAYMENT_STATES.filter((s) => externalState(s).finished && externalState(s).status !== 'success');

/** Days in [from, to) that had payments, oldest first (days without any are absent). */
export async function countPaymentsByDay(db: Kysely<Database>, accountId: string, from: Date, to: Date): Promise<DayCounts[]> {
  const succeeded = sql.join(SUCCEEDED.map((s) => sql.lit(s)));
  const unsuccessful = sql.join(UNSUCCESSFUL.map((s) => sql.lit(s)));
  const day = sql<string>`to_char(created_at at time zone 'UTC', 'YYYY-MM-DD')`;
  const rows = await db
    .selectFrom('payments')
    .select([
      day.as('day'),
      sql<string>`count(*)`.as('created'),
      sql<string>`count(*) filter (where status in (${succeeded}))`.as('succeeded'),
      sql<string>`coalesce(sum(amount) filter (where status in (${succeeded})), 0)`.as('succeeded_amount'),
      sql<string>`count(*) filter (where status in (${unsuccessful}))`.as('unsuccessful'),
    ])
    .where('account_id', '=', accountId)
    .where('created_at', '>=', from)
    .where('created_at', '<', to)
    .groupBy(day)
    .orderBy(day)
    .execute();
  return rows.map((r) => ({
    day: r.day,
    created: Number(r.created),
    succeeded: Number(r.succeeded),
    succeededAmount: Number(r.succeeded_amount),
    unsuccessful: Number(r.unsuccessful),
  }));
}
