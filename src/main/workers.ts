// Runs the domain workers inside `coffer serve`: each in its own loop, never overlapping
// itself, with jitter so many nodes do not wake in step. Stopping waits for runs in progress.
import type { AppContext } from '../platform/context.js';
import type { Worker } from '../platform/worker.js';
import { auditWorkers } from '../audit/audit.workers.js';
import { inactiveUsersWorker } from '../console/access/inactivity.worker.js';
import { webhookDeliveryWorker } from '../webhooks/delivery.worker.js';
import { webhookFanoutWorker } from '../webhooks/fanout.worker.js';
import { webhookRetentionWorker } from '../webhooks/retention.worker.js';
import { paymentWorkers } from '../payments/payment.workers.js';
import { webSessionSweeper } from '../web/session.worker.js';
import { alertEmailWorker } from '../alerts/alert.worker.js';

/** Every worker Coffer runs. Domains add theirs here. */
export const allWorkers: Worker[] = [...paymentWorkers, webSessionSweeper, webhookFanoutWorker, webhookDeliveryWorker, webhookRetentionWorker, inactiveUsersWorker, ...auditWorkers, alertEmailWorker];

export interface RunningWorkers {
  stop(): Promise<void>;
}

export function startWorkers(ctx: AppContext, workers: readonly Worker[] = allWorkers): RunningWorkers {
  let stopped = false;
  const timers = new Set<NodeJS.Timeout>();
  const wakers = new Set<() => void>();
  const loops = workers.map(async (worker) => {
    while (!stopped) {
      let more = false;
      try {
        const outcome = await worker.run(ctx);
        more = outcome.more;
        if (outcome.handled > 0) ctx.log.debug({ worker: worker.name, handled: outcome.handled }, 'worker ran');
      } catch (err) {
        ctx.log.error({ err, worker: worker.name }, 'worker run failed');
      }
      if (stopped) break;
      const pause = more ? 0 : worker.intervalMs * (0.8 + Math.random() * 0.4);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          timers.delete(timer);
          wakers.delete(resolve);
          resolve();
        }, pause);
        timers.add(timer);
        wakers.add(resolve);
      });
    }
  });
  return {
    async stop() {
      stopped = true;
      for (const timer of timers) clearTimeout(timer);
      for (const wake of wakers) wake();
      await Promise.all(loops);
    },
  };
}
