// The access review (PCI DSS 7.2.4: every account and its privileges, at least every six
// months): who is in the service, with which role, which second factors, when they last signed
// in and how many working API keys they created. Recording a review keeps that snapshot with
// the reviewer's notes, and the next one falls due six months later.
import { changeWithAudit } from '../../audit/audit.service.js';
import type { AppContext } from '../../platform/context.js';
import { unprocessable } from '../../platform/errors.js';
import { prefixedId } from '../../platform/random.js';
import { mfaMethodsOf } from '../mfa/factor.service.js';
import type { Authorised } from '../identity/user.service.js';
import * as users from '../identity/user.repo.js';
import { keysCreatedBy, userActor } from './leaver.service.js';

export const REVIEW_INTERVAL_MONTHS = 6;

export interface AccessReviewRow {
  userId: string;
  email: string;
  role: string;
  status: string;
  mfaMethods: string[];
  lastSignInAt: string | null;
  keyCount: number;
}

export interface AccessReview {
  serviceId: string;
  generatedAt: string;
  users: AccessReviewRow[];
  lastReview: { id: string; reviewedBy: string; reviewedAt: string; notes: string } | null;
  nextReviewDue: string | null;
  overdue: boolean;
}

function addMonths(date: Date, months: number): Date {
  const d = new Date(date.getTime());
  d.setUTCMonth(d.getUTCMonth() + months);
  return d;
}

export async function accessReview(ctx: AppContext, actor: Authorised): Promise<AccessReview> {
  const now = ctx.clock.now();
  const members = await users.listMembersOfService(ctx.db, actor.serviceId);
  const rows: AccessReviewRow[] = [];
  for (const member of members) {
    const methods = await mfaMethodsOf(ctx, member.user);
    rows.push({
      userId: member.user.id,
      email: member.user.email,
      role: member.role,
      status: member.user.status,
      mfaMethods: [
        ...(methods.totp ? ['authenticator app'] : []),
        ...methods.passkeys.map((p) => `passkey: ${p.name}`),
        ...(methods.recoveryCodesLeft > 0 ? [`recovery codes (${methods.recoveryCodesLeft} left)`] : []),
      ],
      lastSignInAt: member.user.last_sign_in_at?.toISOString() ?? null,
      keyCount: (await keysCreatedBy(ctx, actor.serviceId, member.user.id)).length,
    });
  }
  const last = await ctx.db
    .selectFrom('console_access_reviews')
    .select(['id', 'reviewed_by', 'reviewed_at', 'notes'])
    .where('service_id', '=', actor.serviceId)
    .orderBy('reviewed_at', 'desc')
    .limit(1)
    .executeTakeFirst();
  const due = last ? addMonths(last.reviewed_at, REVIEW_INTERVAL_MONTHS) : null;
  return {
    serviceId: actor.serviceId,
    generatedAt: now.toISOString(),
    users: rows,
    lastReview: last ? { id: last.id, reviewedBy: last.reviewed_by, reviewedAt: last.reviewed_at.toISOString(), notes: last.notes } : null,
    nextReviewDue: due?.toISOString() ?? null,
    overdue: due === null || due.getTime() <= now.getTime(),
  };
}

/** Records that the review was done (access-review:record), with what was seen at the time. */
export async function recordAccessReview(ctx: AppContext, actor: Authorised, notes: string): Promise<{ id: string; nextReviewDue: string }> {
  const text = notes.trim();
  if (text.length === 0 || text.length > 5000) throw unprocessable('Say what was reviewed and what was changed (up to 5000 characters)', 'notes');
  const review = await accessReview(ctx, actor);
  const now = ctx.clock.now();
  const id = prefixedId('arev');
  await changeWithAudit(
    ctx.db,
    (trx) =>
      trx
        .insertInto('console_access_reviews')
        .values({ id, service_id: actor.serviceId, reviewed_by: userActor(actor.session.userId), reviewed_at: now, notes: text, snapshot: JSON.stringify(review.users) })
        .execute(),
    () => ({ actor: { type: 'user', id: actor.session.userId }, action: 'access_review.record', object: { type: 'access_review', id }, serviceId: actor.serviceId, at: now, details: { users: review.users.length } }),
  );
  return { id, nextReviewDue: addMonths(now, REVIEW_INTERVAL_MONTHS).toISOString() };
}
