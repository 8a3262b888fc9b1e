// Refunds, in GOV.UK Pay's order of checks: the payment must be refundable (400 P0603 with its
// refund status), refund_amount_available must match what is available (412 P0604, filled in
// when omitted), and the amount must fit (400 P0603 amount_not_available). The checks and the
// insert run under the payment's row lock, so concurrent refunds never exceed the amount. The
// processor is called after commit; a refund stuck in flight is retried by the sweeper.
import { ProcessorUnavailable, type SimpleOutcome } from '../connectors/connector.js';
import { recordDomainEvent } from '../events/event.repo.js';
import { recordAudit } from '../audit/audit.service.js';
import { observeRefund } from '../alerts/detectors/refunds.js';
import type { AppContext } from '../platform/context.js';
import { govukStyleId } from '../platform/random.js';
import { paymentError } from '../payments/payment.errors.js';
import * as paymentRepo from '../payments/payment.repo.js';
import { paymentUrl, refundSummary, toRefundView, type RefundView } from '../payments/payment.resource.js';
import { requirePayment, type Caller } from '../payments/payment.service.js';
import type { RefundRow } from '../payments/payment.tables.js';
import { pageLinks, parseDateOnly, parseDateTime, parsePaging, pastTheEnd, type PageLinks } from '../payments/pagination.js';
import * as repo from './refund.repo.js';
import { runIdempotent } from '../payments/idempotency.js';
import { accountSettings } from '../payments/account-settings.js';

export interface CreateRefundInput {
  amount: number;
  refund_amount_available?: number | undefined;
}

class RefundRefused extends Error {
  constructor(readonly error: Error) {
    super(error.message);
  }
}

/** POST /v1/payments/{id}/refunds; with an Idempotency-Key, a retry never refunds twice. */
export async function createRefund(ctx: AppContext, caller: Caller, paymentId: string, input: CreateRefundInput, idempotencyKey?: string): Promise<RefundView> {
  return runIdempotent(
    ctx,
    { accountId: caller.accountId, operation: 'refund', key: idempotencyKey, paymentId, body: input },
    () => refundNow(ctx, caller, paymentId, input),
    (refund) => refund.refund_id,
    async (refundId) => getRefund(ctx, caller.accountId, paymentId, refundId ?? ''),
  );
}

async function refundNow(ctx: AppContext, caller: Caller, paymentId: string, input: CreateRefundInput): Promise<RefundView> {
  await requirePayment(ctx, caller.accountId, paymentId, 'P0600');
  if ((await accountSettings(ctx, caller.accountId)).payments_disabled) throw paymentError('P0941');

  let refund: RefundRow;
  try {
    refund = await ctx.db.transaction().execute(async (trx) => {
      const payment = await paymentRepo.lockPaymentByAccountAndId(trx, caller.accountId, paymentId);
      if (!payment) throw new RefundRefused(paymentError('P0600'));
      const summary = refundSummary(payment);
      if (summary.status !== 'available') throw new RefundRefused(paymentError('P0603', [summary.status]));
      const expected = input.refund_amount_available ?? summary.amount_available;
      if (expected !== summary.amount_available) throw new RefundRefused(paymentError('P0604'));
      if (input.amount > summary.amount_available) throw new RefundRefused(paymentError('P0603', ['amount_not_available']));
      const now = ctx.clock.now();
      const row: RefundRow = {
        id: govukStyleId(),
        payment_id: payment.id,
        service_id: payment.service_id,
        account_id: payment.account_id,
        amount: input.amount,
        status: 'submitted',
        processor_reference: null,
        created_at: now,
        updated_at: now,
      };
      await repo.insertRefund(trx, row);
      await paymentRepo.addRefundedAmount(trx, payment.id, input.amount);
      await recordDomainEvent(trx, {
        serviceId: payment.service_id,
        accountId: payment.account_id,
        resourceType: 'refund',
        resourceId: row.id,
        eventType: 'refund_submitted',
        occurredAt: now,
        data: { status: 'submitted', payment_id: payment.id, amount: input.amount },
      });
      await recordAudit(trx, { action: 'refund.create', object: { type: 'refund', id: row.id }, serviceId: payment.service_id, accountId: payment.account_id, at: now, details: { payment_id: payment.id, amount: input.amount } });
      await observeRefund(trx, ctx, { serviceId: payment.service_id, accountId: payment.account_id });
      return row;
    });
  } catch (err) {
    if (err instanceof RefundRefused) throw err.error;
    throw err;
  }

  const payment = await paymentRepo.findPaymentById(ctx.db, paymentId);
  const settled = await sendRefund(ctx, refund, payment?.processor_reference ?? '');
  return toRefundView(ctx, settled);
}

/** Calls the processor for a submitted refund and records the answer; unreachable leaves it submitted. */
export async function sendRefund(ctx: AppContext, refund: RefundRow, processorReference: string): Promise<RefundRow> {
  let outcome: SimpleOutcome;
  try {
    outcome = await ctx.cardProcessor.refund({ refundId: refund.id, paymentId: refund.payment_id, processorReference, amount: refund.amount });
  } catch (err) {
    if (!(err instanceof ProcessorUnavailable)) throw err;
    ctx.log.warn({ refundId: refund.id }, 'processor unavailable for refund; the sweeper will retry');
    return refund;
  }
  const now = ctx.clock.now();
  const status = outcome.outcome === 'ok' ? 'success' : 'error';
  if (outcome.outcome === 'error') ctx.log.warn({ refundId: refund.id, reason: outcome.reason }, 'refund failed at the processor');
  const changed = await ctx.db.transaction().execute(async (trx) => {
    if (!(await repo.settleRefund(trx, refund.id, status, now, outcome.outcome === 'ok' ? outcome.processorReference : null))) return false;
    // A failed refund gives its amount back to what is available.
    if (status === 'error') await paymentRepo.addRefundedAmount(trx, refund.payment_id, -refund.amount);
    await recordDomainEvent(trx, {
      serviceId: refund.service_id,
      accountId: refund.account_id,
      resourceType: 'refund',
      resourceId: refund.id,
      eventType: status === 'success' ? 'refund_succeeded' : 'refund_failed',
      occurredAt: now,
      data: { status, payment_id: refund.payment_id, amount: refund.amount },
    });
    return true;
  });
  if (!changed) return (await repo.findRefundByAccountAndId(ctx.db, refund.account_id, refund.id)) ?? refund;
  return { ...refund, status, updated_at: now };
}

export async function getRefund(ctx: AppContext, accountId: string, paymentId: string, refundId: string): Promise<RefundView> {
  const refund = await repo.findRefundByPaymentAndId(ctx.db, accountId, paymentId, refundId);
  if (!refund) throw paymentError('P0700');
  return toRefundView(ctx, refund);
}

export async function listRefunds(ctx: AppContext, accountId: string, paymentId: string) {
  const payment = await requirePayment(ctx, accountId, paymentId, 'P0800');
  const refunds = await repo.listRefundsByPayment(ctx.db, accountId, payment.id);
  const url = paymentUrl(ctx, payment.id);
  return {
    payment_id: payment.id,
    _links: { self: { href: `${url}/refunds`, method: 'GET' }, payment: { href: url, method: 'GET' } },
    _embedded: { refunds: refunds.map((r) => toRefundView(ctx, r)) },
  };
}

export type RefundSearchQuery = Partial<Record<'from_date' | 'to_date' | 'from_settled_date' | 'to_settled_date' | 'page' | 'display_size', string | undefined>>;

export async function searchRefundsForAccount(
  ctx: AppContext,
  accountId: string,
  query: RefundSearchQuery,
): Promise<{ total: number; count: number; page: number; results: RefundView[]; _links: PageLinks }> {
  const bad: string[] = [];
  const search: repo.RefundSearch = { accountId };
  for (const [name, target] of [['from_date', 'fromDate'], ['to_date', 'toDate']] as const) {
    const value = query[name];
    if (value === undefined) continue;
    const date = parseDateTime(value);
    if (date) search[target] = date;
    else bad.push(name);
  }
  for (const [name, target] of [['from_settled_date', 'settledFrom'], ['to_settled_date', 'settledTo']] as const) {
    const value = query[name];
    if (value === undefined) continue;
    const date = parseDateOnly(value);
    if (date) search[target] = date;
    else bad.push(name);
  }
  const paging = parsePaging(query, bad);
  if (bad.length > 0) throw paymentError('P1101', [bad.join(', ')]);
  const { total, rows } = await repo.searchRefunds(ctx.db, search, { offset: (paging.page - 1) * paging.displaySize, limit: paging.displaySize });
  if (pastTheEnd(paging, total)) throw paymentError('P1100');
  const params = (['from_date', 'to_date', 'from_settled_date', 'to_settled_date'] as const).flatMap((n): [string, string][] =>
    query[n] === undefined ? [] : [[n, query[n]]],
  );
  return { total, count: rows.length, page: paging.page, results: rows.map((r) => toRefundView(ctx, r)), _links: pageLinks(`${ctx.baseUrl}/v1/refunds`, params, paging, total) };
}
