// Which payment transitions are audit entries, and how each is named: one table, applied by
// applyTransition in the transition's own transaction. Card data never goes further than the
// brand and the last four digits (PCI DSS 3.4 allows showing those; 10.2 wants no more).
import type { Kysely } from 'kysely';
import type { AuditActor } from '../audit/audit.entry.js';
import { currentOrigin } from '../audit/audit.origin.js';
import { recordAudit } from '../audit/audit.service.js';
import type { AuditOutcome } from '../audit/audit.tables.js';
import type { Database } from '../store/schema.js';
import type { PaymentEvent } from './payment.machine.js';
import type { PaymentChanges } from './payment.repo.js';
import type { PaymentRow } from './payment.tables.js';

interface Audited {
  action: string;
  outcome?: AuditOutcome;
  /** What the processor answered, for `payment.authorise`: success, declined or error. */
  result?: 'authorised' | '3ds_required' | 'declined' | 'error';
  /** The payer acts on the hosted pages, anonymously. */
  byPayer?: boolean;
}

const AUDITED: Partial<Record<PaymentEvent, Audited>> = {
  capture: { action: 'payment.capture' },
  cancel_by_service: { action: 'payment.cancel' },
  cancel_by_service_at_processor: { action: 'payment.cancel' },
  cancel_by_user: { action: 'payment.cancel', byPayer: true },
  cancel_by_user_at_processor: { action: 'payment.cancel', byPayer: true },
  expire: { action: 'payment.expire' },
  expire_at_processor: { action: 'payment.expire' },
  authorised: { action: 'payment.authorise', result: 'authorised', byPayer: true },
  three_ds_required: { action: 'payment.authorise', result: '3ds_required', byPayer: true },
  rejected: { action: 'payment.authorise', result: 'declined', outcome: 'failure', byPayer: true },
  authorisation_failed: { action: 'payment.authorise', result: 'error', outcome: 'failure', byPayer: true },
};

const PAYER: AuditActor = { type: 'anonymous', id: 'payer' };

export async function auditTransition(
  trx: Kysely<Database>,
  payment: Pick<PaymentRow, 'id' | 'service_id' | 'account_id'>,
  event: PaymentEvent,
  at: Date,
  changes: PaymentChanges,
): Promise<void> {
  const audited = AUDITED[event];
  if (!audited) return;
  // Outside a request (the expiry worker, the reconciler) the actor is the system.
  const actor = !currentOrigin() ? { type: 'system' as const, id: 'payment-worker' } : audited.byPayer ? PAYER : undefined;
  const card = changes.card_last_digits ? { card_brand: changes.card_brand ?? null, last_four: changes.card_last_digits } : {};
  await recordAudit(trx, {
    actor,
    action: audited.action,
    object: { type: 'payment', id: payment.id },
    serviceId: payment.service_id,
    accountId: payment.account_id,
    at,
    outcome: audited.outcome,
    details: { event, ...(audited.result ? { result: audited.result } : {}), ...card },
  });
}

/** The entry of a payment's creation, written with the insert (see payment.repo insertNewPayment). */
export function paymentCreateEntry(payment: Pick<PaymentRow, 'id' | 'service_id' | 'account_id' | 'amount' | 'reference'> & { authorisation_mode: string }, at: Date) {
  return {
    action: 'payment.create',
    object: { type: 'payment', id: payment.id },
    serviceId: payment.service_id,
    accountId: payment.account_id,
    at,
    details: { amount: payment.amount, reference: payment.reference, authorisation_mode: payment.authorisation_mode },
  };
}
