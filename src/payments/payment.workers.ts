// Background work for payments, safe on many nodes: each batch locks its rows FOR UPDATE SKIP
// LOCKED, so two nodes never take the same payment, and every change is a compare-and-set.
//  - expiry: unfinished payments 90 minutes after creation → failed P0020; capturable ones after
//    120 hours. Authorised ones are voided at the processor (after commit).
//  - reconciler: payments and refunds stuck in flight (a node died mid-call, or the processor
//    was unreachable) are finished: captures, voids and refunds retried; an authorisation whose
//    answer never came is an error (P0050), as GOV.UK Pay reports a timeout.
//  - housekeeping: payer tokens after 7 days, idempotency keys after 24 hours, rate-limit
//    windows after a minute.
import type { AppContext } from '../platform/context.js';
import type { Worker } from '../platform/worker.js';
import { lockStuckRefunds, touchRefund } from '../refunds/refund.repo.js';
import { sendRefund } from '../refunds/refund.service.js';
import { EXPIRY_AFTER_MS, IN_FLIGHT, transition, type PaymentState } from './payment.machine.js';
import * as repo from './payment.repo.js';
import type { PaymentRow, RefundRow } from './payment.tables.js';
import { applyTransition } from './payment.transitions.js';
import { finishCapture, finishProcessorCancel } from './payment.service.js';
import { IDEMPOTENCY_WINDOW_MS } from './idempotency.js';

const BATCH = 100;
/** How long a row may sit in flight before the reconciler takes it (GOV.UK Pay skips 300 s). */
export const STUCK_AFTER_MS = 5 * 60_000;
const TOKEN_LIFETIME_MS = 7 * 86_400_000;

export const paymentExpiryWorker: Worker = {
  name: 'payment-expiry',
  intervalMs: 30_000,
  async run(ctx) {
    const now = ctx.clock.now();
    const toVoid: PaymentRow[] = [];
    let handled = 0;
    let more = false;
    for (const [state, ageMs] of Object.entries(EXPIRY_AFTER_MS) as [PaymentState, number][]) {
      const moved = await ctx.db.transaction().execute(async (trx) => {
        const rows = await repo.lockExpirable(trx, state, new Date(now.getTime() - ageMs), BATCH);
        let count = 0;
        for (const row of rows) {
          const event = transition(state, 'expire') ? 'expire' : 'expire_at_processor';
          const result = await applyTransition(trx, row, event, now);
          if (result.ok) {
            count++;
            if (result.to === 'expire_cancel_ready') toVoid.push({ ...row, status: result.to });
          }
        }
        return { count, full: rows.length === BATCH };
      });
      handled += moved.count;
      more ||= moved.full;
    }
    for (const payment of toVoid) await finishProcessorCancel(ctx, payment);
    handled += await repo.deleteTokensCreatedBefore(ctx.db, new Date(now.getTime() - TOKEN_LIFETIME_MS), 1000);
    handled += await repo.deleteIdempotencyKeysBefore(ctx.db, new Date(now.getTime() - IDEMPOTENCY_WINDOW_MS), 1000);
    handled += await repo.deleteRateWindowsBefore(ctx.db, new Date(now.getTime() - 60_000), 5000);
    return { handled, more };
  },
};

export const paymentReconcileWorker: Worker = {
  name: 'payment-reconciler',
  intervalMs: 60_000,
  async run(ctx: AppContext) {
    const now = ctx.clock.now();
    const cutoff = new Date(now.getTime() - STUCK_AFTER_MS);
    const claimed = await ctx.db.transaction().execute(async (trx) => {
      const rows = await repo.lockStuck(trx, IN_FLIGHT, cutoff, BATCH);
      const retry: PaymentRow[] = [];
      let resolved = 0;
      for (const row of rows) {
        const state = row.status as PaymentState;
        if (state === 'authorisation_ready' || state === 'authorisation_3ds_ready') {
          if ((await applyTransition(trx, row, 'authorisation_failed', now)).ok) resolved++;
        } else if (await repo.touchInFlight(trx, row.id, state, now)) {
          // Claimed for this node: others skip it until it is stuck again.
          retry.push({ ...row, updated_at: now });
        }
      }
      const refunds: RefundRow[] = await lockStuckRefunds(trx, cutoff, BATCH);
      for (const refund of refunds) await touchRefund(trx, refund.id, now);
      return { retry, resolved, refunds, full: rows.length === BATCH || refunds.length === BATCH };
    });
    for (const payment of claimed.retry) {
      if (payment.status === 'capture_submitted') await finishCapture(ctx, payment);
      else await finishProcessorCancel(ctx, payment);
    }
    for (const refund of claimed.refunds) {
      const payment = await repo.findPaymentById(ctx.db, refund.payment_id);
      await sendRefund(ctx, refund, payment?.processor_reference ?? '');
    }
    return { handled: claimed.resolved + claimed.retry.length + claimed.refunds.length, more: claimed.full };
  },
};

export const paymentWorkers: Worker[] = [paymentExpiryWorker, paymentReconcileWorker];
