// Applies one edge of the state machine inside a transaction: compare-and-set on the status,
// and the domain event in the same transaction. Refused edges and lost races are values.
import type { Kysely } from 'kysely';
import { recordDomainEvent } from '../events/event.repo.js';
import { auditTransition } from './payment.audit.js';
import type { Database } from '../store/schema.js';
import { externalState, transition, type PaymentEvent, type PaymentState } from './payment.machine.js';
import { compareAndSetStatus, type PaymentChanges } from './payment.repo.js';
import type { PaymentRow } from './payment.tables.js';

export type TransitionResult = { ok: true; to: PaymentState } | { ok: false; reason: 'refused' | 'conflict' };

export async function applyTransition(
  trx: Kysely<Database>,
  payment: Pick<PaymentRow, 'id' | 'service_id' | 'account_id' | 'status'>,
  event: PaymentEvent,
  at: Date,
  changes: PaymentChanges = {},
): Promise<TransitionResult> {
  const from = payment.status as PaymentState;
  const edge = transition(from, event);
  if (!edge) return { ok: false, reason: 'refused' };
  if (!(await compareAndSetStatus(trx, payment.id, from, edge.to, at, changes))) return { ok: false, reason: 'conflict' };
  await recordDomainEvent(trx, {
    serviceId: payment.service_id,
    accountId: payment.account_id,
    resourceType: 'payment',
    resourceId: payment.id,
    eventType: edge.emits,
    occurredAt: at,
    data: { state: externalState(edge.to), internal_status: edge.to, previous_internal_status: from },
  });
  await auditTransition(trx, payment, event, at, changes);
  return { ok: true, to: edge.to };
}

/** Runs one transition in its own transaction (for steps with nothing else to write). */
export async function transitionNow(
  db: Kysely<Database>,
  payment: Pick<PaymentRow, 'id' | 'service_id' | 'account_id' | 'status'>,
  event: PaymentEvent,
  at: Date,
  changes: PaymentChanges = {},
): Promise<TransitionResult> {
  return db.transaction().execute((trx) => applyTransition(trx, payment, event, at, changes));
}
