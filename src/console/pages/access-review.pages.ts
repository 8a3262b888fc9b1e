// Console pages for the periodic access review (PCI DSS 7.2.4): every member with role, second
// factors, last sign-in and working keys they created; members inactive past the configured
// limit flagged (the inactivity worker disables them); the last review with a warning once it is
// six months old; and "record the review as done" with a note (access-review:record), kept with
// who and when by the access-review service.
// Registered by service-pages.ts; each page goes through servicePage() in console.shell.ts,
// which does the session, service, allow-list, role and step-up checks before the handler runs.
import { z } from 'zod';
import type { HttpApp } from '../../http/types.js';
import { CofferError } from '../../platform/errors.js';
import { accessReview, recordAccessReview } from '../access/access-review.service.js';
import { findUserById } from '../identity/user.repo.js';
import { consolePolicy } from '../settings.js';
import type { ConsoleKit, FieldErrors } from './console.kit.js';
import { servicePage, type ServicePage } from './console.shell.js';
import { ROLE_LABELS } from './team.pages.js';

const recordBody = z.object({ notes: z.string().max(20_000).optional() });
const reviewQuery = z.object({ done: z.enum(['recorded']).optional() });

/** `user:usr_…` as the reviewer's email, when the user still exists. */
async function reviewerName(kit: ConsoleKit, reviewedBy: string): Promise<string> {
  const id = reviewedBy.startsWith('user:') ? reviewedBy.slice(5) : undefined;
  const user = id ? await findUserById(kit.ctx.db, id) : undefined;
  return user?.email ?? reviewedBy;
}

export function registerAccessReviewPages(app: HttpApp, kit: ConsoleKit): void {
  const { ctx } = kit;

  const render = async (page: ServicePage, extra: { notes?: string; errors?: FieldErrors; status?: number; done?: string | undefined }) => {
    const review = await accessReview(ctx, { session: page.session, serviceId: page.service.id, role: page.role });
    const inactiveMs = consolePolicy(ctx).inactiveDisableAfterMs;
    const now = ctx.clock.now().getTime();
    const users = [];
    for (const u of review.users) {
      // As the inactivity worker counts: from the last sign-in, or from joining if there was none.
      const since = u.lastSignInAt ? Date.parse(u.lastSignInAt) : ((await findUserById(ctx.db, u.userId))?.created_at.getTime() ?? now);
      users.push({ ...u, roleLabel: ROLE_LABELS[u.role] ?? u.role, inactive: inactiveMs > 0 && u.status === 'active' && now - since >= inactiveMs });
    }
    return page.render(
      'access-review.njk',
      {
        pageTitle: 'Access review',
        users,
        inactiveDays: Math.round(inactiveMs / 86_400_000),
        flagged: users.filter((u) => u.inactive).length,
        lastReview: review.lastReview ? { ...review.lastReview, reviewer: await reviewerName(kit, review.lastReview.reviewedBy) } : null,
        nextReviewDue: review.nextReviewDue,
        overdue: review.overdue,
        canRecord: page.can('access-review:record'),
        notes: extra.notes ?? '',
        errors: extra.errors ?? {},
        done: extra.done,
      },
      { status: extra.status ?? 200 },
    );
  };

  servicePage(app, kit, { method: 'GET', path: '/access-review', permission: 'team:view', query: reviewQuery }, async ({ page, query }) =>
    render(page, { done: query.done }),
  );

  servicePage(app, kit, { method: 'POST', path: '/access-review', permission: 'access-review:record', body: recordBody }, async ({ page, body, reply }) => {
    try {
      await recordAccessReview(ctx, { session: page.session, serviceId: page.service.id, role: page.role }, body.notes ?? '');
    } catch (err) {
      if (!(err instanceof CofferError) || err.status !== 422) throw err;
      return render(page, { notes: body.notes, errors: { notes: err.message }, status: 422 });
    }
    return reply.redirect(`${page.base}/access-review?done=recorded`, 303);
  });
}
