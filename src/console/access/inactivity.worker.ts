// Disables console users who have not signed in for 90 days (PCI DSS 8.2.6; configurable, 0
// turns it off), ending their sessions. Their API keys are left alone: keys belong to running
// integrations, and an account going quiet is not the same as its owner leaving (the leaver
// process revokes keys). Safe on many nodes: rows are claimed with FOR UPDATE SKIP LOCKED and
// disabled by compare-and-set.
import type { Worker } from '../../platform/worker.js';
import * as users from '../identity/user.repo.js';
import { endAllSessionsOfUser } from '../sessions/session.service.js';
import { consolePolicy } from '../settings.js';

const BATCH = 50;

export const inactiveUsersWorker: Worker = {
  name: 'console-inactive-users',
  intervalMs: 60 * 60_000,
  async run(ctx) {
    const after = consolePolicy(ctx).inactiveDisableAfterMs;
    if (after <= 0) return { handled: 0, more: false };
    const now = ctx.clock.now();
    const days = Math.round(after / 86_400_000);
    const handled = await ctx.db.transaction().execute(async (trx) => {
      const stale = await users.claimInactiveUsers(trx, new Date(now.getTime() - after), BATCH);
      let count = 0;
      for (const user of stale) {
        if (await users.markDisabled(trx, user.id, { at: now, by: 'system:inactivity', reason: `no sign-in for ${days} days` })) {
          await endAllSessionsOfUser(trx, ctx, user.id, 'user-disabled');
          count++;
        }
      }
      return count;
    });
    if (handled > 0) ctx.log.info({ worker: 'console-inactive-users', disabled: handled }, 'inactive console users disabled');
    return { handled, more: handled === BATCH };
  },
};
