// Rate-limit breaches: an account whose requests keep being refused with 429.
import type { AppContext } from '../../platform/context.js';
import * as repo from '../alert.repo.js';
import { raiseAlert } from '../alert.service.js';
import { countEvent } from './threshold.js';

export async function observeRateLimitRefusal(ctx: AppContext, accountId: string, bucket: string): Promise<void> {
  try {
    const raise = await countEvent(ctx.db, ctx, 'rate_limit_breaches', `account:${accountId}`);
    if (raise === 0) return;
    const owner = await repo.accountOwner(ctx.db, accountId);
    if (!owner) return;
    await raiseAlert(ctx.db, ctx, {
      serviceId: owner.service_id,
      accountId,
      detector: 'rate_limit_breaches',
      subject: `account:${accountId}`,
      summary: `API requests of the ${owner.mode} account keep exceeding the rate limit`,
      details: { last_bucket: bucket },
      occurrences: raise,
    });
  } catch (err) {
    ctx.log.error({ err }, 'rate-limit detector failed');
  }
}
