// Card-testing defences on the card form (PCI DSS 6.4.2; reference notes §7): before a card is
// sent to the processor, count recent attempts for this payment, from this client address and
// with this card, and refuse politely beyond the limits. A refusal is recorded with a domain
// event in the same transaction, for the alerting work to pick up. The card is counted by a
// keyed hash (HMAC-SHA256 under a key derived for this purpose only, PCI DSS 3.5.1.1), the
// address by another; neither can be reversed or matched without the master key.
import { recordAudit } from '../audit/audit.service.js';
import { createHmac } from 'node:crypto';
import type { AppContext } from '../platform/context.js';
import { deriveKey } from '../platform/encryption.js';
import { recordDomainEvent } from '../events/event.repo.js';
import { countAttempts, insertAttempt, type AttemptCounts } from './hosted.repo.js';
import type { AttemptOutcome } from './hosted.tables.js';
import { alertCardTestingRefusal, observeAuthorisationAttempt } from '../alerts/detectors/card-testing.js';

export const CARD_TESTING_LIMITS = {
  windowMs: 60 * 60_000,
  /** Authorisations per payment: one normally, more only if a journey allows retries. */
  perPayment: 3,
  perIp: 10,
  declinedPerIp: 5,
  perCard: 5,
  declinedPerCard: 3,
} as const;

export type LimitReason = 'payment' | 'ip' | 'ip_declines' | 'card' | 'card_declines';

const keyCache = new WeakMap<Buffer, { card: Buffer; ip: Buffer }>();

function keys(ctx: AppContext): { card: Buffer; ip: Buffer } {
  let cached = keyCache.get(ctx.masterKey.key);
  if (!cached) {
    cached = { card: deriveKey(ctx.masterKey.key, 'card-fingerprint'), ip: deriveKey(ctx.masterKey.key, 'client-ip') };
    keyCache.set(ctx.masterKey.key, cached);
  }
  return cached;
}

export interface AttemptKeys {
  paymentId: string;
  accountId: string;
  serviceId: string;
  ipHash: string;
  cardFingerprint: string;
}

/**
 * Live accounts count across all of Coffer: a card tester spreads over many services. Test
 * accounts take only the public test cards, so there is nothing to test there, and their
 * counters are kept per account: every developer's suite uses the same cards from 127.0.0.1.
 */
export function attemptKeys(
  ctx: AppContext,
  payment: { paymentId: string; accountId: string; serviceId: string; mode: 'test' | 'live' },
  ip: string,
  cardNumber: string,
): AttemptKeys {
  const k = keys(ctx);
  const scope = payment.mode === 'live' ? 'live:' : `test:${payment.accountId}:`;
  return {
    paymentId: payment.paymentId,
    accountId: payment.accountId,
    serviceId: payment.serviceId,
    ipHash: createHmac('sha256', k.ip).update(scope + ip).digest('hex'),
    cardFingerprint: createHmac('sha256', k.card).update(scope + cardNumber).digest('hex'),
  };
}

export function exceeded(counts: AttemptCounts): LimitReason | undefined {
  const l = CARD_TESTING_LIMITS;
  if (counts.forPayment >= l.perPayment) return 'payment';
  if (counts.declinedForCard >= l.declinedPerCard) return 'card_declines';
  if (counts.forCard >= l.perCard) return 'card';
  if (counts.declinedForIp >= l.declinedPerIp) return 'ip_declines';
  if (counts.forIp >= l.perIp) return 'ip';
  return undefined;
}

/** Undefined when the attempt may go ahead; otherwise records the refusal and says why. */
export async function checkAttempt(ctx: AppContext, attempt: AttemptKeys): Promise<LimitReason | undefined> {
  const now = ctx.clock.now();
  const counts = await countAttempts(ctx.db, attempt, new Date(now.getTime() - CARD_TESTING_LIMITS.windowMs));
  const reason = exceeded(counts);
  if (!reason) return undefined;
  await ctx.db.transaction().execute(async (trx) => {
    await insertAttempt(trx, { ...attempt, outcome: 'refused_limit', at: now });
    await recordDomainEvent(trx, {
      serviceId: attempt.serviceId,
      accountId: attempt.accountId,
      resourceType: 'payment',
      resourceId: attempt.paymentId,
      eventType: 'card_testing_limit_reached',
      occurredAt: now,
      data: { reason, counts },
    });
    await recordAudit(trx, { actor: { type: 'anonymous', id: 'payer' }, action: 'payment.authorise', object: { type: 'payment', id: attempt.paymentId }, serviceId: attempt.serviceId, accountId: attempt.accountId, at: now, outcome: 'denied', details: { result: 'refused_limit', reason } });
    await alertCardTestingRefusal(trx, ctx, attempt, reason);
  });
  ctx.log.warn({ paymentId: attempt.paymentId, reason }, 'card-testing limit reached: authorisation refused');
  return reason;
}

export async function recordAttempt(ctx: AppContext, attempt: AttemptKeys, outcome: AttemptOutcome): Promise<void> {
  await insertAttempt(ctx.db, { ...attempt, outcome, at: ctx.clock.now() });
  await observeAuthorisationAttempt(ctx, attempt, outcome);
}
