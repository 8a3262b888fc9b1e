// The payer's side of a payment, for the hosted pages: redeem the next_url token, read what
// the pages show, and move the payment through card entry, authorisation, 3-D Secure,
// confirmation or cancellation. Outcomes are values. The card number and CVC exist here only
// in memory on their way to the processor: only the summary (brand, first six, last four,
// expiry, type) and the sealed cardholder name and address are stored.
import { ProcessorUnavailable, type AuthoriseOutcome, type CardDetails, type CardSummary } from '../connectors/connector.js';
import type { AppContext } from '../platform/context.js';
import { externalState, type ExternalState, type PaymentState } from './payment.machine.js';
import * as repo from './payment.repo.js';
import type { PaymentChanges } from './payment.repo.js';
import type { PaymentRow } from './payment.tables.js';
import { applyTransition, transitionNow } from './payment.transitions.js';
import { finishCapture, finishProcessorCancel } from './payment.service.js';
import { blindIndex, openPersonal, sealPersonal } from './personal-data.js';
import { payerTokenHash } from './payer-token.js';
import { brandLabel, type Address } from './payment.resource.js';

export type RedeemedToken = { paymentId: string; firstUse: boolean };

/** Exchanges a next_url token: first use marks it used; a used token still names its payment. */
export async function redeemPayerToken(ctx: AppContext, token: string): Promise<RedeemedToken | undefined> {
  const hash = payerTokenHash(token);
  // eslint-disable-next-line security/detect-possible-timing-attacks -- shape check only; the token is found by its hash
  if (hash === undefined) return undefined;
  const paymentId = await repo.markTokenUsed(ctx.db, hash, ctx.clock.now());
  if (paymentId !== undefined) return { paymentId, firstUse: true };
  const existing = await repo.findToken(ctx.db, hash);
  return existing ? { paymentId: existing.payment_id, firstUse: false } : undefined;
}

export interface PayerPaymentView {
  paymentId: string;
  accountId: string;
  serviceId: string;
  serviceName: string;
  mode: 'test' | 'live';
  amount: number;
  currency: string;
  description: string;
  reference: string;
  language: 'en' | 'cy';
  email: string | null;
  prefilledCardholderName: string | null;
  prefilledBillingAddress: Address | null;
  returnUrl: string | null;
  delayedCapture: boolean;
  moto: boolean;
  status: PaymentState;
  state: ExternalState;
  card: {
    brand: string | null;
    brandLabel: string | null;
    firstDigits: string | null;
    lastDigits: string;
    expiryDate: string | null;
    cardType: string | null;
    cardholderName: string | null;
    billingAddress: Address | null;
  } | null;
  createdAt: Date;
}

function parseAddress(text: string | null | undefined): Address | null {
  if (text === null || text === undefined) return null;
  const parsed = JSON.parse(text) as Record<string, unknown> | null;
  if (parsed === null || typeof parsed !== 'object') return null;
  const address: Address = {};
  for (const key of ['line1', 'line2', 'postcode', 'city', 'country'] as const) {
    const value = parsed[key];
    if (typeof value === 'string') address[key] = value;
  }
  return address;
}

export async function getPaymentForPayer(ctx: AppContext, paymentId: string): Promise<PayerPaymentView | undefined> {
  const payment = await repo.findPaymentById(ctx.db, paymentId);
  if (!payment) return undefined;
  const key = ctx.masterKey.key;
  const prefilledText = openPersonal(key, payment.id, 'prefilled', payment.prefilled_sealed);
  const prefilled = prefilledText === null ? null : (JSON.parse(prefilledText) as { cardholder_name?: string | null; billing_address?: unknown });
  const status = payment.status as PaymentState;
  return {
    paymentId: payment.id,
    accountId: payment.account_id,
    serviceId: payment.service_id,
    serviceName: (await repo.findServiceName(ctx.db, payment.service_id)) ?? '',
    mode: payment.mode,
    amount: payment.amount,
    currency: payment.currency,
    description: payment.description,
    reference: payment.reference,
    language: payment.language,
    email: openPersonal(key, payment.id, 'email', payment.email_sealed),
    prefilledCardholderName: prefilled?.cardholder_name ?? null,
    prefilledBillingAddress: prefilled?.billing_address ? parseAddress(JSON.stringify(prefilled.billing_address)) : null,
    returnUrl: payment.return_url,
    delayedCapture: payment.delayed_capture,
    moto: payment.moto,
    status,
    state: externalState(status),
    card:
      payment.card_last_digits === null
        ? null
        : {
            brand: payment.card_brand,
            brandLabel: payment.card_brand === null ? null : brandLabel(payment.card_brand),
            firstDigits: payment.card_first_digits,
            lastDigits: payment.card_last_digits,
            expiryDate: payment.card_expiry,
            cardType: payment.card_type,
            cardholderName: openPersonal(key, payment.id, 'cardholder_name', payment.cardholder_name_sealed),
            billingAddress: parseAddress(openPersonal(key, payment.id, 'billing_address', payment.billing_address_sealed)),
          },
    createdAt: payment.created_at,
  };
}

export type StepRefused = { outcome: 'not_allowed_in_state'; status: PaymentState; state: ExternalState } | { outcome: 'not_found' };

function refused(payment: PaymentRow | undefined): StepRefused {
  if (!payment) return { outcome: 'not_found' };
  const status = payment.status as PaymentState;
  return { outcome: 'not_allowed_in_state', status, state: externalState(status) };
}

/** created → entering_card_details; idempotent when the payer is already there. */
export async function startPayerJourney(ctx: AppContext, paymentId: string): Promise<{ outcome: 'started'; status: PaymentState } | StepRefused> {
  const payment = await repo.findPaymentById(ctx.db, paymentId);
  if (!payment) return refused(payment);
  if (payment.status === 'entering_card_details') return { outcome: 'started', status: 'entering_card_details' };
  const moved = await transitionNow(ctx.db, payment, 'start', ctx.clock.now());
  if (moved.ok) return { outcome: 'started', status: moved.to };
  const current = await repo.findPaymentById(ctx.db, paymentId);
  if (current?.status === 'entering_card_details') return { outcome: 'started', status: 'entering_card_details' };
  return refused(current);
}

export interface AuthoriseInput {
  card: CardDetails;
  email?: string | undefined;
  billingAddress?: Address | undefined;
}

export type AuthorisationResult =
  | { outcome: 'authorised'; state: ExternalState }
  | { outcome: 'requires_3ds'; challengeId: string; state: ExternalState }
  | { outcome: 'rejected'; state: ExternalState }
  | { outcome: 'error'; state: ExternalState }
  | StepRefused;

function summarise(card: CardDetails, processorSummary: CardSummary | undefined): PaymentChanges {
  const digits = card.number.replace(/\D/g, '');
  const expiry = `${String(card.expiryMonth).padStart(2, '0')}/${String(card.expiryYear % 100).padStart(2, '0')}`;
  return {
    card_first_digits: digits.length >= 12 ? digits.slice(0, 6) : null,
    card_last_digits: digits.length >= 4 ? digits.slice(-4) : null,
    card_expiry: /^\d{2}\/\d{2}$/.test(expiry) ? expiry : null,
    card_brand: processorSummary?.brand ?? null,
    card_type: processorSummary?.cardType ?? null,
    card_corporate: processorSummary?.corporate ?? null,
    card_prepaid: processorSummary?.prepaid ?? null,
  };
}

function outcomeChanges(ctx: AppContext, payment: PaymentRow, input: AuthoriseInput, outcome: AuthoriseOutcome): PaymentChanges {
  const changes: PaymentChanges = {
    ...summarise(input.card, outcome.card),
    cardholder_name_sealed: sealPersonal(ctx.masterKey.key, payment.id, 'cardholder_name', input.card.cardholderName),
    cardholder_name_index: blindIndex(ctx.masterKey.key, 'cardholder_name', input.card.cardholderName),
  };
  if (outcome.outcome === 'authorised' || outcome.outcome === 'requires_3ds') changes.processor_reference = outcome.processorReference;
  if (outcome.outcome === 'authorised') changes.three_ds_required = false;
  if (outcome.outcome === 'requires_3ds') {
    changes.three_ds_required = true;
    changes.three_ds_challenge_id = outcome.challengeId;
  }
  return changes;
}

/**
 * Authorises the payer's card: compare-and-set into authorisation_ready (with the payer's email
 * and billing address), call the processor outside the transaction, record its answer. A
 * processor that cannot be reached leaves the outcome unknown, which GOV.UK Pay reports as an
 * error (P0050), and so do we.
 */
export async function authorisePayment(ctx: AppContext, paymentId: string, input: AuthoriseInput): Promise<AuthorisationResult> {
  const payment = await repo.findPaymentById(ctx.db, paymentId);
  if (!payment || (payment.status !== 'created' && payment.status !== 'entering_card_details')) return refused(payment);
  const key = ctx.masterKey.key;
  const submitted = await ctx.db.transaction().execute(async (trx) => {
    let current: PaymentRow = payment;
    if (current.status === 'created') {
      const started = await applyTransition(trx, current, 'start', ctx.clock.now());
      if (!started.ok) return started;
      current = { ...current, status: started.to };
    }
    const changes: PaymentChanges = {};
    if (input.email !== undefined) {
      changes.email_sealed = sealPersonal(key, payment.id, 'email', input.email);
      changes.email_index = blindIndex(key, 'email', input.email);
    }
    if (input.billingAddress !== undefined) changes.billing_address_sealed = sealPersonal(key, payment.id, 'billing_address', JSON.stringify(input.billingAddress));
    return applyTransition(trx, current, 'submit_card', ctx.clock.now(), changes);
  });
  if (!submitted.ok) return refused(await repo.findPaymentById(ctx.db, paymentId));
  const inFlight: PaymentRow = { ...payment, status: submitted.to };

  let outcome: AuthoriseOutcome;
  try {
    outcome = await ctx.cardProcessor.authorise({
      paymentId: payment.id,
      amount: payment.amount,
      currency: payment.currency,
      mode: payment.mode,
      card: input.card,
      payerPresent: true,
    });
  } catch (err) {
    if (!(err instanceof ProcessorUnavailable)) throw err;
    ctx.log.warn({ paymentId: payment.id }, 'processor unavailable during authorisation');
    outcome = { outcome: 'error', reason: 'processor unavailable', card: undefined };
  }
  const event = outcome.outcome === 'authorised' ? 'authorised' : outcome.outcome === 'requires_3ds' ? 'three_ds_required' : outcome.outcome === 'rejected' ? 'rejected' : 'authorisation_failed';
  const recorded = await transitionNow(ctx.db, inFlight, event, ctx.clock.now(), outcomeChanges(ctx, payment, input, outcome));
  if (!recorded.ok) return refused(await repo.findPaymentById(ctx.db, paymentId));
  const state = externalState(recorded.to);
  switch (outcome.outcome) {
    case 'authorised':
      return { outcome: 'authorised', state };
    case 'requires_3ds':
      return { outcome: 'requires_3ds', challengeId: outcome.challengeId, state };
    case 'rejected':
      return { outcome: 'rejected', state };
    case 'error':
      return { outcome: 'error', state };
  }
}

/** The payer's answer to the 3-D Secure challenge. */
export async function completeThreeDs(ctx: AppContext, paymentId: string, answer: string): Promise<AuthorisationResult> {
  const payment = await repo.findPaymentById(ctx.db, paymentId);
  if (!payment || payment.status !== 'authorisation_3ds_required') return refused(payment);
  const submitted = await transitionNow(ctx.db, payment, 'submit_three_ds', ctx.clock.now());
  if (!submitted.ok) return refused(await repo.findPaymentById(ctx.db, paymentId));
  let outcome;
  try {
    outcome = await ctx.cardProcessor.completeThreeDs({
      paymentId: payment.id,
      processorReference: payment.processor_reference ?? '',
      challengeId: payment.three_ds_challenge_id ?? '',
      answer,
    });
  } catch (err) {
    if (!(err instanceof ProcessorUnavailable)) throw err;
    outcome = { outcome: 'error' as const, reason: 'processor unavailable' };
  }
  const event = outcome.outcome === 'authorised' ? 'authorised' : outcome.outcome === 'rejected' ? 'rejected' : 'authorisation_failed';
  const recorded = await transitionNow(ctx.db, { ...payment, status: submitted.to }, event, ctx.clock.now());
  if (!recorded.ok) return refused(await repo.findPaymentById(ctx.db, paymentId));
  const state = externalState(recorded.to);
  return outcome.outcome === 'authorised' ? { outcome: 'authorised', state } : outcome.outcome === 'rejected' ? { outcome: 'rejected', state } : { outcome: 'error', state };
}

export type ConfirmResult = { outcome: 'success' | 'capturable' | 'error'; state: ExternalState } | StepRefused;

/** The payer confirms: capture now through the processor, or hold for the service (delayed_capture). */
export async function confirmPayment(ctx: AppContext, paymentId: string): Promise<ConfirmResult> {
  const payment = await repo.findPaymentById(ctx.db, paymentId);
  if (!payment || payment.status !== 'authorisation_success') return refused(payment);
  const now = ctx.clock.now();
  if (payment.delayed_capture) {
    const held = await transitionNow(ctx.db, payment, 'confirm_delayed', now);
    if (!held.ok) return refused(await repo.findPaymentById(ctx.db, paymentId));
    return { outcome: 'capturable', state: externalState(held.to) };
  }
  const moved = await transitionNow(ctx.db, payment, 'confirm', now, { capture_submitted_at: now });
  if (!moved.ok) return refused(await repo.findPaymentById(ctx.db, paymentId));
  const captured = await finishCapture(ctx, { ...payment, status: moved.to, capture_submitted_at: now });
  const status: PaymentState = captured === 'pending' ? 'capture_submitted' : captured;
  return { outcome: captured === 'capture_error' ? 'error' : 'success', state: externalState(status) };
}

/** The payer pressed "Cancel payment": failed / P0030. */
export async function cancelByPayer(ctx: AppContext, paymentId: string): Promise<{ outcome: 'cancelled'; state: ExternalState } | StepRefused> {
  const payment = await repo.findPaymentById(ctx.db, paymentId);
  if (!payment) return refused(payment);
  const now = ctx.clock.now();
  const direct = await transitionNow(ctx.db, payment, 'cancel_by_user', now);
  if (direct.ok) return { outcome: 'cancelled', state: externalState(direct.to) };
  if (direct.reason === 'refused') {
    const viaProcessor = await transitionNow(ctx.db, payment, 'cancel_by_user_at_processor', now);
    if (viaProcessor.ok) {
      await finishProcessorCancel(ctx, { ...payment, status: viaProcessor.to });
      return { outcome: 'cancelled', state: externalState(viaProcessor.to) };
    }
  }
  return refused(await repo.findPaymentById(ctx.db, paymentId));
}
