// A key seen in a public place, reported by a secret scanner: revoked at once if it still
// works (test keys too: a published test key lets anyone read the service's test data and make
// test payments in its name), and the service alerted. The reporter learns nothing: whatever
// was sent, the answer is the same.
import type { AppContext } from '../../platform/context.js';
import { recordAudit } from '../../audit/audit.service.js';
import { sha256Hex } from '../../platform/hashing.js';
import { parseKeyToken } from '../../keys/key.format.js';
import * as keyRepo from '../../keys/key.repo.js';
import { keyCache } from '../../keys/key.verifier.js';
import { raiseAlert } from '../alert.service.js';

export interface LeakReport {
  token: string;
  /** Where the scanner saw it (a commit URL, a paste): kept in the alert for the service. */
  url?: string | undefined;
  source?: string | undefined;
}

export type LeakOutcome = 'revoked' | 'already_inactive' | 'unknown';

export const LEAK_REVOKER = 'leak-report';

export async function handleLeakReport(ctx: AppContext, report: LeakReport): Promise<LeakOutcome> {
  if (!parseKeyToken(report.token).ok) return 'unknown';
  const key = await keyRepo.findKeyByHash(ctx.db, sha256Hex(report.token));
  if (!key) return 'unknown';
  const now = ctx.clock.now();
  const where = { url: report.url?.slice(0, 500) ?? null, source: report.source?.slice(0, 100) ?? null };
  const outcome = await ctx.db.transaction().execute(async (trx) => {
    const revokedNow = await keyRepo.markRevoked(trx, key.id, { at: now, by: LEAK_REVOKER, reason: 'Reported in a public place by a secret scanner' });
    if (revokedNow) {
      await recordAudit(trx, { actor: { type: 'system', id: LEAK_REVOKER }, action: 'key.revoke', object: { type: 'key', id: key.id }, serviceId: key.service_id, accountId: key.account_id, at: now, details: { reason: 'leaked', ...where } });
    }
    await raiseAlert(trx, ctx, {
      serviceId: key.service_id,
      accountId: key.account_id,
      detector: 'key_leaked',
      subject: `key:${key.id}`,
      severity: 'critical',
      summary: revokedNow
        ? `API key "${key.name}" was found in a public place and has been revoked: roll it into your systems now`
        : `API key "${key.name}" (already revoked or expired) was found in a public place`,
      details: { key_id: key.id, mode: key.mode, revoked_now: revokedNow, ...where },
    });
    return revokedNow ? 'revoked' : 'already_inactive';
  });
  if (outcome === 'revoked') keyCache.invalidateAll();
  return outcome;
}
