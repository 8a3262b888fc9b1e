// What happened to one payment, oldest first: its own domain events and those of its refunds,
// merged into one timeline for the console's detail page. Scoped by account like every lookup:
// another account's payment has no timeline (undefined), not an empty one.
import { listEventsForResource } from '../events/event.repo.js';
import type { AppContext } from '../platform/context.js';
import { listRefundsByPayment } from '../refunds/refund.repo.js';
import { findPaymentByAccountAndId } from './payment.repo.js';

export interface TimelineEntry {
  at: Date;
  /** The domain event's type, e.g. authorisation_succeeded or refund_submitted. */
  type: string;
  resource: { type: 'payment' | 'refund'; id: string };
  /** A refund event's amount, in minor units. */
  amount?: number;
}

export async function paymentTimeline(ctx: AppContext, accountId: string, paymentId: string): Promise<TimelineEntry[] | undefined> {
  const payment = await findPaymentByAccountAndId(ctx.db, accountId, paymentId);
  if (!payment) return undefined;
  const entries: (TimelineEntry & { seq: number })[] = [];
  for (const row of await listEventsForResource(ctx.db, accountId, 'payment', payment.id)) {
    entries.push({ seq: Number(row.seq), at: row.occurred_at, type: row.event_type, resource: { type: 'payment', id: payment.id } });
  }
  for (const refund of await listRefundsByPayment(ctx.db, accountId, payment.id)) {
    for (const row of await listEventsForResource(ctx.db, accountId, 'refund', refund.id)) {
      entries.push({ seq: Number(row.seq), at: row.occurred_at, type: row.event_type, resource: { type: 'refund', id: refund.id }, amount: refund.amount });
    }
  }
  // The outbox sequence is the order the changes were written, even within one instant.
  entries.sort((a, b) => a.seq - b.seq);
  return entries.map(({ seq: _seq, ...entry }) => entry);
}
