// Refund spikes: in one window, refunds (by count, or by amount) at least the detector's floor
// and more than REFUND_SPIKE_FACTOR times the account's average for such a window over the
// previous REFUND_BASELINE_DAYS days. Runs in the refund's own transaction, after its insert.
import type { Kysely } from 'kysely';
import type { AppContext } from '../../platform/context.js';
import type { Database } from '../../store/schema.js';
import * as repo from '../alert.repo.js';
import { raiseAlert } from '../alert.service.js';
import { detectorSetting, REFUND_BASELINE_DAYS, REFUND_SPIKE_FACTOR } from '../alert.settings.js';

const DAY_MS = 86_400_000;

export async function observeRefund(trx: Kysely<Database>, ctx: AppContext, refund: { serviceId: string; accountId: string }): Promise<void> {
  const now = ctx.clock.now();
  for (const detector of ['refund_spike_count', 'refund_spike_amount'] as const) {
    const { threshold, windowMs } = detectorSetting(ctx, detector);
    const windowFrom = new Date(now.getTime() - windowMs);
    const recent = await repo.refundTotals(trx, refund.accountId, windowFrom, now);
    const value = detector === 'refund_spike_count' ? recent.count : recent.amount;
    if (value < threshold) continue;
    const baseline = await repo.refundTotals(trx, refund.accountId, new Date(windowFrom.getTime() - REFUND_BASELINE_DAYS * DAY_MS), windowFrom);
    const normal = (detector === 'refund_spike_count' ? baseline.count : baseline.amount) / ((REFUND_BASELINE_DAYS * DAY_MS) / windowMs);
    if (value <= REFUND_SPIKE_FACTOR * normal) continue;
    await raiseAlert(trx, ctx, {
      serviceId: refund.serviceId,
      accountId: refund.accountId,
      detector,
      subject: `account:${refund.accountId}`,
      summary:
        detector === 'refund_spike_count'
          ? `${recent.count} refunds in the last ${windowMs / 60_000} minutes, well above this account's normal`
          : `${recent.amount} (minor units) refunded in the last ${windowMs / 60_000} minutes, well above this account's normal`,
      details: { count: recent.count, amount: recent.amount, normal_per_window: Math.round(normal * 100) / 100 },
    });
  }
}
