// Card testing on the payment pages: an authorisation refused at a card-testing limit (raised
// in the refusal's own transaction), and patterns below those limits: many declines from one
// address, many distinct cards from one address or on one payment. Addresses and cards are
// the hosted domain's keyed hashes, shortened: they identify a pattern, never a card or person.
import type { Kysely } from 'kysely';
import type { AppContext } from '../../platform/context.js';
import type { Database } from '../../store/schema.js';
import { raiseAlert } from '../alert.service.js';
import { countDistinct, countEvent } from './threshold.js';

interface Attempt {
  paymentId: string;
  accountId: string;
  serviceId: string;
  ipHash: string;
  cardFingerprint: string;
}

const short = (hash: string) => hash.slice(0, 16);

/** Pass the transaction that records the refusal. */
export async function alertCardTestingRefusal(trx: Kysely<Database>, ctx: AppContext, attempt: Attempt, reason: string): Promise<void> {
  const subject = reason === 'payment' ? `payment:${attempt.paymentId}` : reason.startsWith('card') ? `card:${short(attempt.cardFingerprint)}` : `ip:${short(attempt.ipHash)}`;
  await raiseAlert(trx, ctx, {
    serviceId: attempt.serviceId,
    accountId: attempt.accountId,
    detector: 'card_testing_refusals',
    subject,
    severity: 'critical',
    summary: `The payment pages refused an authorisation at a card-testing limit (${reason})`,
    details: { reason, payment_id: attempt.paymentId },
  });
}

export async function observeAuthorisationAttempt(ctx: AppContext, attempt: Attempt, outcome: string): Promise<void> {
  try {
    const base = { serviceId: attempt.serviceId, accountId: attempt.accountId, details: { payment_id: attempt.paymentId } };
    const ip = `ip:${short(attempt.ipHash)}`;
    if (outcome === 'declined') {
      const declines = await countEvent(ctx.db, ctx, 'card_testing_declines_ip', `${attempt.accountId}:${ip}`);
      if (declines > 0) await raiseAlert(ctx.db, ctx, { ...base, detector: 'card_testing_declines_ip', subject: ip, summary: 'Many declined cards from one address on the payment pages', occurrences: declines });
    }
    const cards = await countDistinct(ctx.db, ctx, 'card_testing_cards_ip', `${attempt.accountId}:${ip}`, attempt.cardFingerprint);
    if (cards > 0) await raiseAlert(ctx.db, ctx, { ...base, detector: 'card_testing_cards_ip', subject: ip, summary: 'Many different cards tried from one address on the payment pages', occurrences: cards });
    const onPayment = await countDistinct(ctx.db, ctx, 'card_testing_cards_payment', `payment:${attempt.paymentId}`, attempt.cardFingerprint);
    if (onPayment > 0) {
      await raiseAlert(ctx.db, ctx, { ...base, detector: 'card_testing_cards_payment', subject: `payment:${attempt.paymentId}`, summary: `Many different cards tried on payment ${attempt.paymentId}`, occurrences: onPayment });
    }
  } catch (err) {
    ctx.log.error({ err }, 'card-testing detector failed');
  }
}
