// Removes audit entries older than the retention period (default 12 months, PCI DSS 10.5.1)
// while keeping what is left verifiable: before removing a prefix of the chain it signs a
// 'cut' checkpoint at the last removed position, and verification starts from that signed
// point. Only a prefix is ever removed, so the kept entries still form one unbroken chain.
import type { AppContext } from '../platform/context.js';
import type { Worker } from '../platform/worker.js';
import { checkpointKeys, writeCheckpoint } from './audit.checkpoint.js';
import * as repo from './audit.repo.js';
import { recordAudit } from './audit.service.js';
import { auditSettingsFor } from './audit.settings.js';

const BATCH = 10_000;

export async function applyRetention(ctx: AppContext, retentionMs = auditSettingsFor(ctx).retentionMs): Promise<{ removed: number; more: boolean }> {
  const cutoff = new Date(ctx.clock.now().getTime() - retentionMs);
  return ctx.db.transaction().execute(async (trx) => {
    // The chain-head lock keeps one node at a time (and the sealer waits a moment).
    if (!(await repo.lockChainHead(trx))) return { removed: 0, more: false };
    const first = await repo.firstSealedSeq(trx);
    if (first === undefined) return { removed: 0, more: false };
    const through = await repo.lastSealedSeqBefore(trx, cutoff, first + BATCH - 1);
    if (through === undefined || through < first) return { removed: 0, more: false };
    const last = await repo.findBySeq(trx, through);
    if (!last?.hash) throw new Error(`audit entry #${through} vanished during retention`);
    await writeCheckpoint(trx, checkpointKeys(ctx.masterKey.key), { kind: 'cut', size: through, headHash: last.hash, signedAt: ctx.clock.now() });
    const removed = await repo.deleteThrough(trx, through);
    await recordAudit(trx, {
      actor: { type: 'system', id: 'audit-retention' },
      action: 'audit.retention_applied',
      at: ctx.clock.now(),
      details: { removed, through_seq: through, cutoff: cutoff.toISOString() },
    });
    return { removed, more: through === first + BATCH - 1 };
  });
}

export const auditRetentionWorker: Worker = {
  name: 'audit-retention',
  intervalMs: 3_600_000,
  async run(ctx) {
    const { removed, more } = await applyRetention(ctx);
    return { handled: removed, more };
  },
};
