// The payments API: create, get, search, events, cancel and capture, each as validate → load
// and check state → (call the processor outside any transaction) → persist and emit.
// Every lookup is scoped by the caller's account; another account's payment does not exist.
import { listEventsForResource, recordDomainEvent } from '../events/event.repo.js';
import { ProcessorUnavailable } from '../connectors/connector.js';
import type { AppContext } from '../platform/context.js';
import { govukStyleId, prefixedId } from '../platform/random.js';
import { externalState, payerCanAct, type ExternalState, type PaymentState } from './payment.machine.js';
import { paymentError, paymentErrorWithStatus, type NotFoundCode } from './payment.errors.js';
import * as repo from './payment.repo.js';
import { toPaymentView, paymentUrl, type PaymentView } from './payment.resource.js';
import type { AgreementPaymentType, AuthorisationMode, PaymentRow, PaymentsTable } from './payment.tables.js';
import { transitionNow } from './payment.transitions.js';
import { blindIndex, PERSONAL_DATA_KEY_VERSION, sealPersonal } from './personal-data.js';
import { mintPayerToken, newPayerToken } from './payer-token.js';
import { accountSettings } from './account-settings.js';
import { IDEMPOTENCY_WINDOW_MS, requestHash, runIdempotent } from './idempotency.js';
import type { Insertable } from 'kysely';
import { prepareEntry, recordAudit } from '../audit/audit.service.js';
import { paymentCreateEntry } from './payment.audit.js';

export interface Caller {
  accountId: string;
  serviceId: string;
  mode: 'test' | 'live';
}

export interface CreatePaymentInput {
  amount: number;
  reference: string;
  description: string;
  return_url?: string | undefined;
  language?: 'en' | 'cy' | undefined;
  email?: string | undefined;
  delayed_capture?: boolean | undefined;
  moto?: boolean | undefined;
  metadata?: Record<string, string | number | boolean> | undefined;
  prefilled_cardholder_details?:
    | {
        cardholder_name?: string | null | undefined;
        billing_address?: Record<string, string | null | undefined> | null | undefined;
      }
    | undefined;
  authorisation_mode?: AuthorisationMode | undefined;
  agreement_id?: string | undefined;
  set_up_agreement?: string | undefined;
  agreement_payment_type?: AgreementPaymentType | undefined;
}

class IdempotentReplay extends Error {}

/** The rules that span fields or depend on the account, in the order GOV.UK Pay applies them. */
async function checkCreateRules(ctx: AppContext, caller: Caller, input: CreatePaymentInput): Promise<void> {
  const mode = input.authorisation_mode ?? 'web';
  if (mode === 'web') {
    if (input.agreement_id !== undefined) throw paymentError('P0104', ['agreement_id'], { field: 'agreement_id' });
    if (input.return_url === undefined) throw paymentError('P0101', ['return_url'], { field: 'return_url' });
  } else {
    if (input.return_url !== undefined) throw paymentError('P0104', ['return_url'], { field: 'return_url' });
    if (input.set_up_agreement !== undefined) throw paymentError('P0104', ['set_up_agreement'], { field: 'set_up_agreement' });
  }
  if (mode === 'moto_api' && input.agreement_id !== undefined) throw paymentError('P0104', ['agreement_id'], { field: 'agreement_id' });
  if (mode === 'agreement') {
    for (const field of ['email', 'prefilled_cardholder_details', 'moto'] as const) {
      if (input[field] !== undefined) throw paymentError('P0104', [field], { field });
    }
    if (input.agreement_id === undefined) throw paymentError('P0101', ['agreement_id'], { field: 'agreement_id' });
  }
  if (input.agreement_payment_type !== undefined && mode !== 'agreement' && input.set_up_agreement === undefined) {
    throw paymentError('P0104', ['agreement_payment_type'], { field: 'agreement_payment_type' });
  }

  const settings = await accountSettings(ctx, caller.accountId);
  if (settings.payments_disabled) throw paymentError('P0941');
  if (input.amount === 0 && !settings.allow_zero_amount) {
    throw paymentError('P0102', ['amount', 'Must be greater than or equal to 1'], { field: 'amount' });
  }
  if (mode === 'moto_api' && !settings.allow_moto_api) throw paymentError('P0195', [], { field: 'authorisation_mode' });
  if (mode === 'agreement' && !settings.allow_recurring) throw paymentError('P0942');
  if (input.moto === true && !settings.allow_moto) throw paymentError('P0196');
  // Agreements arrive with their own issue; until then no agreement exists to refer to.
  if (mode === 'agreement') throw paymentErrorWithStatus('P0102', 400, ['agreement_id', 'Agreement does not exist'], { field: 'agreement_id' });
  if (input.set_up_agreement !== undefined) throw paymentError('P0103', [], { field: 'set_up_agreement' });

  if (caller.mode === 'live' && input.return_url !== undefined && !/^https:\/\//i.test(input.return_url)) {
    throw paymentError('P0920', [], { field: 'return_url' });
  }
}

function newPaymentRow(ctx: AppContext, caller: Caller, input: CreatePaymentInput, id: string, now: Date): Insertable<PaymentsTable> {
  const key = ctx.masterKey.key;
  const prefilled = input.prefilled_cardholder_details;
  const prefilledJson = prefilled === undefined ? null : JSON.stringify(prefilled);
  return {
    id,
    service_id: caller.serviceId,
    account_id: caller.accountId,
    mode: caller.mode,
    status: 'created',
    amount: input.amount,
    currency: 'GBP',
    description: input.description,
    reference: input.reference,
    language: input.language ?? 'en',
    return_url: input.return_url ?? null,
    delayed_capture: input.delayed_capture ?? false,
    moto: input.moto ?? false,
    authorisation_mode: input.authorisation_mode ?? 'web',
    agreement_id: input.agreement_id ?? null,
    set_up_agreement: input.set_up_agreement ?? null,
    agreement_payment_type: input.agreement_payment_type ?? null,
    metadata: input.metadata === undefined ? null : JSON.stringify(input.metadata),
    email_sealed: sealPersonal(key, id, 'email', input.email),
    email_index: blindIndex(key, 'email', input.email),
    prefilled_sealed: sealPersonal(key, id, 'prefilled', prefilledJson),
    cardholder_name_sealed: null,
    cardholder_name_index: null,
    billing_address_sealed: null,
    personal_data_key_version: PERSONAL_DATA_KEY_VERSION,
    card_brand: null,
    card_type: null,
    card_first_digits: null,
    card_last_digits: null,
    card_expiry: null,
    card_corporate: null,
    card_prepaid: null,
    three_ds_required: null,
    three_ds_challenge_id: null,
    payment_provider: ctx.cardProcessor.name,
    processor_reference: null,
    capture_submitted_at: null,
    captured_at: null,
    created_at: now,
    updated_at: now,
  };
}

function createdEvent(at: Date): repo.NewPaymentEvent {
  return { id: prefixedId('evt'), eventType: 'payment_created', occurredAt: at, data: { state: externalState('created'), internal_status: 'created' } };
}

/** The row as the database holds it after the insert (column defaults filled in). */
function insertedRow(row: Insertable<PaymentsTable>, input: CreatePaymentInput): PaymentRow {
  return { ...row, metadata: input.metadata ?? null, refunded_amount: 0, version: 1 } as PaymentRow;
}

export interface CreatedPayment {
  /** 201 for a new payment, 200 when an Idempotency-Key replayed an earlier one. */
  status: 201 | 200;
  payment: PaymentView;
}

export async function createPayment(
  ctx: AppContext,
  caller: Caller,
  input: CreatePaymentInput,
  options: { idempotencyKey?: string | undefined; rawBody?: unknown } = {},
): Promise<CreatedPayment> {
  await checkCreateRules(ctx, caller, input);
  const hash = options.idempotencyKey === undefined ? undefined : requestHash(options.rawBody ?? input);

  if (options.idempotencyKey === undefined) {
    const now = ctx.clock.now();
    const id = govukStyleId();
    const row = newPaymentRow(ctx, caller, input, id, now);
    const token = row.authorisation_mode === 'web' ? newPayerToken() : undefined;
    await repo.insertNewPayment(ctx.db, row, createdEvent(now), token?.hash, prepareEntry(paymentCreateEntry(row, now)));
    return { status: 201, payment: toPaymentView(ctx, insertedRow(row, input), { payerToken: token?.token, email: input.email ?? null }) };
  }

  for (let attempt = 0; attempt < 3; attempt++) {
    const now = ctx.clock.now();
    const id = govukStyleId();
    const row = newPaymentRow(ctx, caller, input, id, now);
    try {
      const token = await ctx.db.transaction().execute(async (trx) => {
        await repo.insertPayment(trx, row);
        if (options.idempotencyKey !== undefined && hash !== undefined) {
          const claimed = await repo.claimIdempotencyKey(trx, {
            accountId: caller.accountId,
            operation: 'create_payment',
            key: options.idempotencyKey,
            requestHash: hash,
            paymentId: id,
            at: now,
            expiredBefore: new Date(now.getTime() - IDEMPOTENCY_WINDOW_MS),
          });
          if (!claimed) throw new IdempotentReplay();
        }
        const event = createdEvent(now);
        await recordDomainEvent(trx, {
          serviceId: caller.serviceId,
          accountId: caller.accountId,
          resourceType: 'payment',
          resourceId: id,
          eventType: event.eventType,
          occurredAt: now,
          data: event.data,
        });
        await recordAudit(trx, paymentCreateEntry(row, now));
        return row.authorisation_mode === 'web' ? mintPayerToken(trx, row, now) : undefined;
      });
      return { status: 201, payment: toPaymentView(ctx, insertedRow(row, input), { payerToken: token }) };
    } catch (err) {
      if (!(err instanceof IdempotentReplay) || options.idempotencyKey === undefined) throw err;
      const existing = await repo.findIdempotencyKey(ctx.db, caller.accountId, 'create_payment', options.idempotencyKey, new Date(now.getTime() - IDEMPOTENCY_WINDOW_MS));
      if (!existing) continue; // the key's earlier holder rolled back or aged out: try again
      // eslint-disable-next-line security/detect-possible-timing-attacks -- compares request digests, not a secret
      if (existing.request_hash !== hash) throw paymentError('P0191', [], { header: 'Idempotency-Key' });
      return { status: 200, payment: await getPayment(ctx, caller.accountId, existing.payment_id) };
    }
  }
  throw paymentError('P0191', [], { header: 'Idempotency-Key' });
}

export async function requirePayment(ctx: AppContext, accountId: string, paymentId: string, notFound: NotFoundCode): Promise<PaymentRow> {
  const payment = await repo.findPaymentByAccountAndId(ctx.db, accountId, paymentId);
  if (!payment) throw paymentError(notFound);
  return payment;
}

/** GET /v1/payments/{id}: strongly consistent, with a fresh payer token while the payer can act. */
export async function getPayment(ctx: AppContext, accountId: string, paymentId: string): Promise<PaymentView> {
  const payment = await requirePayment(ctx, accountId, paymentId, 'P0200');
  if (payment.authorisation_mode !== 'web' || !payerCanAct(payment.status as PaymentState)) return toPaymentView(ctx, payment);
  const token = await mintPayerToken(ctx.db, payment, ctx.clock.now());
  return toPaymentView(ctx, payment, { payerToken: token });
}

export interface PaymentEventView {
  payment_id: string;
  state: ExternalState;
  updated: string;
  _links: { payment_url: { href: string; method: string } };
}

/** One event per change of external state, oldest first, from the domain events. */
export async function getPaymentEvents(ctx: AppContext, accountId: string, paymentId: string): Promise<{ payment_id: string; events: PaymentEventView[]; _links: { self: { href: string; method: string } } }> {
  const payment = await requirePayment(ctx, accountId, paymentId, 'P0300');
  const rows = await listEventsForResource(ctx.db, accountId, 'payment', payment.id);
  const url = paymentUrl(ctx, payment.id);
  const events: PaymentEventView[] = [];
  let previous: string | undefined;
  for (const row of rows) {
    const state = (row.data as { state?: ExternalState }).state;
    if (!state) continue;
    const key = `${state.status}|${state.code ?? ''}`;
    if (key === previous) continue;
    previous = key;
    events.push({ payment_id: payment.id, state, updated: row.occurred_at.toISOString(), _links: { payment_url: { href: url, method: 'GET' } } });
  }
  return { payment_id: payment.id, events, _links: { self: { href: `${url}/events`, method: 'GET' } } };
}

/** Asks the processor to void an authorisation, then records that the cancel is done. */
export async function finishProcessorCancel(ctx: AppContext, payment: PaymentRow): Promise<void> {
  try {
    const outcome = await ctx.cardProcessor.cancel({ paymentId: payment.id, processorReference: payment.processor_reference ?? '' });
    if (outcome.outcome === 'error') {
      // The payment is cancelled for the service either way; the authorisation lapses at the bank.
      ctx.log.warn({ paymentId: payment.id, reason: outcome.reason }, 'processor refused to void an authorisation');
    }
  } catch (err) {
    if (err instanceof ProcessorUnavailable) {
      ctx.log.warn({ paymentId: payment.id }, 'processor unavailable for cancel; the sweeper will retry');
      return;
    }
    throw err;
  }
  const current = await repo.findPaymentById(ctx.db, payment.id);
  if (current) await transitionNow(ctx.db, current, 'processor_cancel_done', ctx.clock.now());
}

/** POST /v1/payments/{id}/cancel (idempotent with an Idempotency-Key). */
export async function cancelPayment(ctx: AppContext, accountId: string, paymentId: string, idempotencyKey?: string): Promise<void> {
  await runIdempotent(
    ctx,
    { accountId, operation: 'cancel', key: idempotencyKey, paymentId, body: null },
    () => cancelNow(ctx, accountId, paymentId),
    () => undefined,
    async () => undefined,
  );
}

async function cancelNow(ctx: AppContext, accountId: string, paymentId: string): Promise<void> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const payment = await requirePayment(ctx, accountId, paymentId, 'P0500');
    const state = payment.status as PaymentState;
    if (state === 'authorisation_ready' || state === 'authorisation_3ds_ready') throw paymentError('P0502');
    const now = ctx.clock.now();
    const direct = await transitionNow(ctx.db, payment, 'cancel_by_service', now);
    if (direct.ok) return;
    const viaProcessor = direct.reason === 'refused' ? await transitionNow(ctx.db, payment, 'cancel_by_service_at_processor', now) : direct;
    if (viaProcessor.ok) {
      await finishProcessorCancel(ctx, { ...payment, status: viaProcessor.to });
      return;
    }
    if (viaProcessor.reason === 'refused') throw paymentError('P0501');
    // Lost a race with another change: look again.
  }
  throw paymentError('P0502');
}

/** Captures through the processor a payment already moved to capture_submitted. */
export async function finishCapture(ctx: AppContext, payment: PaymentRow): Promise<'captured' | 'capture_error' | 'pending'> {
  let outcome;
  try {
    outcome = await ctx.cardProcessor.capture({ paymentId: payment.id, processorReference: payment.processor_reference ?? '', amount: payment.amount });
  } catch (err) {
    if (err instanceof ProcessorUnavailable) {
      ctx.log.warn({ paymentId: payment.id }, 'processor unavailable for capture; the sweeper will retry');
      return 'pending';
    }
    throw err;
  }
  const now = ctx.clock.now();
  if (outcome.outcome === 'ok') {
    const done = await transitionNow(ctx.db, payment, 'capture_confirmed', now, { captured_at: now });
    return done.ok ? 'captured' : 'pending';
  }
  ctx.log.warn({ paymentId: payment.id, reason: outcome.reason }, 'capture failed at the processor');
  const failed = await transitionNow(ctx.db, payment, 'capture_failed', now);
  return failed.ok ? 'capture_error' : 'pending';
}

/** POST /v1/payments/{id}/capture: only a capturable payment; one of many racing callers wins. */
export async function capturePayment(ctx: AppContext, accountId: string, paymentId: string, idempotencyKey?: string): Promise<void> {
  await runIdempotent(
    ctx,
    { accountId, operation: 'capture', key: idempotencyKey, paymentId, body: null },
    () => captureNow(ctx, accountId, paymentId),
    () => undefined,
    async () => undefined,
  );
}

async function captureNow(ctx: AppContext, accountId: string, paymentId: string): Promise<void> {
  const payment = await requirePayment(ctx, accountId, paymentId, 'P1000');
  if (payment.status !== 'awaiting_capture_request') throw paymentError('P1003');
  const now = ctx.clock.now();
  const moved = await transitionNow(ctx.db, payment, 'capture', now, { capture_submitted_at: now });
  if (!moved.ok) throw paymentError('P1003');
  await finishCapture(ctx, { ...payment, status: moved.to, capture_submitted_at: now });
}
