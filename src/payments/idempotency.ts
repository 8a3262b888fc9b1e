// Idempotency-Key on the payments API's POSTs (going further than GOV.UK Pay, which honours it
// only for agreement payments): a key is 1–255 of [a-zA-Z0-9-], scoped to the account and the
// operation, kept 24 hours. The same key with the same request replays the original outcome;
// with a different request it is 409 P0191. A request that fails gives its key back.
import { createHash } from 'node:crypto';
import type { AppContext } from '../platform/context.js';
import { paymentError } from './payment.errors.js';
import * as repo from './payment.repo.js';
import type { IdempotentOperation } from './payment.tables.js';

export const IDEMPOTENCY_WINDOW_MS = 24 * 3_600_000;
export const IDEMPOTENCY_KEY_PATTERN = /^[a-zA-Z0-9-]{1,255}$/;

/** Same request → same hash: JSON compared as maps, so key order does not matter. */
export function requestHash(body: unknown): string {
  const canonical = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(canonical);
    if (value !== null && typeof value === 'object') {
      return Object.fromEntries(
        Object.keys(value)
          .sort()
          .map((k) => [k, canonical((value as Record<string, unknown>)[k])]),
      );
    }
    return value;
  };
  return createHash('sha256').update(JSON.stringify(canonical(body))).digest('hex');
}

export interface IdempotentRequest {
  accountId: string;
  operation: Exclude<IdempotentOperation, 'create_payment'>;
  key: string | undefined;
  paymentId: string;
  body: unknown;
}

/**
 * Runs `action` once per key. A replay of a completed request calls `replay` with what the
 * first one produced (a refund's id; null for cancel and capture, which produce nothing).
 */
export async function runIdempotent<T>(
  ctx: AppContext,
  request: IdempotentRequest,
  action: () => Promise<T>,
  produced: (result: T) => string | undefined,
  replay: (resourceId: string | null) => Promise<T>,
): Promise<T> {
  if (request.key === undefined) return action();
  const key = request.key;
  const hash = requestHash({ payment_id: request.paymentId, body: request.body ?? null });
  for (let attempt = 0; attempt < 2; attempt++) {
    const now = ctx.clock.now();
    const notBefore = new Date(now.getTime() - IDEMPOTENCY_WINDOW_MS);
    const claimed = await repo.claimIdempotencyKey(ctx.db, {
      accountId: request.accountId,
      operation: request.operation,
      key,
      requestHash: hash,
      paymentId: request.paymentId,
      at: now,
      expiredBefore: notBefore,
    });
    if (claimed) {
      let result: T;
      try {
        result = await action();
      } catch (err) {
        await repo.releaseIdempotencyKey(ctx.db, request.accountId, request.operation, key);
        throw err;
      }
      // Cancel and capture produce nothing to point at; mark them complete with the payment.
      await repo.completeIdempotencyKey(ctx.db, request.accountId, request.operation, key, produced(result) ?? request.paymentId);
      return result;
    }
    const existing = await repo.findIdempotencyKey(ctx.db, request.accountId, request.operation, key, notBefore);
    if (!existing) continue; // released or aged out in between: claim it again
    if (existing.request_hash !== hash || existing.resource_id === null) throw paymentError('P0191', [], { header: 'Idempotency-Key' });
    return replay(request.operation === 'refund' ? existing.resource_id : null);
  }
  throw paymentError('P0191', [], { header: 'Idempotency-Key' });
}
