// Failed console sign-ins, per user and per address. A user's alert goes to every service they
// belong to; an address's alert to every service whose users it tried in the window (an address
// trying only unknown emails concerns no service: it is in the log and the per-IP throttle).
import type { AppContext } from '../../platform/context.js';
import * as repo from '../alert.repo.js';
import { raiseAlert } from '../alert.service.js';
import { detectorSetting } from '../alert.settings.js';
import { countEvent } from './threshold.js';

export async function observeSignInFailure(ctx: AppContext, failure: { userId: string | undefined; ip: string; reason: string }): Promise<void> {
  try {
    if (failure.userId !== undefined) {
      const raise = await countEvent(ctx.db, ctx, 'signin_failures_user', `user:${failure.userId}`);
      if (raise > 0) {
        for (const serviceId of await repo.servicesOfUser(ctx.db, failure.userId)) {
          await raiseAlert(ctx.db, ctx, {
            serviceId,
            detector: 'signin_failures_user',
            subject: `user:${failure.userId}`,
            summary: `Repeated failed console sign-ins for user ${failure.userId}`,
            details: { user_id: failure.userId, last_ip: failure.ip, last_reason: failure.reason },
            occurrences: raise,
          });
        }
      }
    }
    const fromIp = await countEvent(ctx.db, ctx, 'signin_failures_ip', `ip:${failure.ip}`);
    if (fromIp > 0) {
      const since = new Date(ctx.clock.now().getTime() - detectorSetting(ctx, 'signin_failures_ip').windowMs);
      for (const serviceId of await repo.servicesTargetedFromIp(ctx.db, failure.ip, since)) {
        await raiseAlert(ctx.db, ctx, {
          serviceId,
          detector: 'signin_failures_ip',
          subject: `ip:${failure.ip}`,
          summary: `Many failed console sign-ins from ${failure.ip}`,
          details: { ip: failure.ip, last_reason: failure.reason },
          occurrences: fromIp,
        });
      }
    }
  } catch (err) {
    ctx.log.error({ err }, 'sign-in failure detector failed');
  }
}
