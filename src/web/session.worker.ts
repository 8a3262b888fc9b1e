// Deletes browser sessions that have expired (and, by cascade, the payment bindings that named
// them). A plain delete by expiry: safe on any number of nodes at once.
import type { Worker } from '../platform/worker.js';
import { deleteExpiredSessions } from './session.repo.js';

const BATCH = 500;

export const webSessionSweeper: Worker = {
  name: 'web-session-sweeper',
  intervalMs: 10 * 60_000,
  async run(ctx) {
    const handled = await deleteExpiredSessions(ctx.db, ctx.clock.now(), BATCH);
    return { handled, more: handled === BATCH };
  },
};
