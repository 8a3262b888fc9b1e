// Console pages for team members: the team (team:view), inviting, changing roles and the
// leavers' process (team:manage, a step-up permission, so every form page asks for it too and
// the second factor is given before the form is seen). Removing someone first shows the API
// keys they created, which the removal revokes; the POST carries back the key ids shown, so
// the leaver service refuses if the set changed meanwhile. The invite link is shown once, on
// the result page, and sent by email when this Coffer has SMTP.
// Registered by service-pages.ts; each page goes through servicePage() in console.shell.ts,
// which does the session, service, allow-list, role and step-up checks before the handler runs.
import { z } from 'zod';
import type { HttpApp } from '../../http/types.js';
import { CofferError } from '../../platform/errors.js';
import { mailConfigured, sendMail } from '../../notifications/mailer.js';
import { accessReview } from '../access/access-review.service.js';
import { previewRemoval, removeMember } from '../access/leaver.service.js';
import { createInvite } from '../identity/invite.service.js';
import { ASSIGNABLE_ROLES } from '../identity/roles.js';
import { listPendingInvites } from '../identity/user.repo.js';
import { changeRole, type Authorised } from '../identity/user.service.js';
import type { ConsoleKit, FieldErrors } from './console.kit.js';
import { servicePage, type ServicePage } from './console.shell.js';
import { PageError } from '../../web/web.plugin.js';

export const ROLE_LABELS: Record<string, string> = {
  administrator: 'Administrator',
  'view-and-refund': 'View and refund',
  'view-only': 'View only',
  developer: 'Developer (API keys and webhooks)',
  'payout-maker': 'Payout maker',
  'payout-approver': 'Payout approver',
};
const roleOptions = ASSIGNABLE_ROLES.map((value) => ({ value, label: ROLE_LABELS[value] ?? value }));

const memberParams = z.object({ userId: z.string().min(1).max(60) });
const teamQuery = z.object({ done: z.enum(['role']).optional() });
// Lenient: what the user typed comes back with a message, not a bare 400.
const inviteBody = z.object({ email: z.string().max(400).optional(), role: z.string().max(40).optional() });
const roleBody = z.object({ role: z.string().max(40).optional() });
const removeBody = z.object({ key_ids: z.string().max(10_000).optional() });

const actorOf = (page: ServicePage): Authorised => ({ session: page.session, serviceId: page.service.id, role: page.role });

/** A refusal from a service (bad input, conflict) as a message on the form; anything else propagates. */
function asFieldError(err: unknown, fallbackField: string): { errors: FieldErrors; status: number } {
  if (!(err instanceof CofferError) || err.status >= 500 || err.status === 404) throw err;
  return { errors: { [err.field ?? fallbackField]: err.message }, status: err.status === 409 ? 409 : 422 };
}

async function member(kit: ConsoleKit, page: ServicePage, userId: string) {
  const found = (await accessReview(kit.ctx, actorOf(page))).users.find((u) => u.userId === userId);
  if (!found) throw new PageError('not_found', 404);
  return found;
}

export function registerTeamPages(app: HttpApp, kit: ConsoleKit): void {
  const { ctx } = kit;

  servicePage(app, kit, { method: 'GET', path: '/team', permission: 'team:view', query: teamQuery }, async ({ page, query }) => {
    const review = await accessReview(ctx, actorOf(page));
    const invites = await listPendingInvites(ctx.db, page.service.id, ctx.clock.now());
    return page.render('team.njk', {
      pageTitle: 'Team',
      members: review.users.map((u) => ({ ...u, roleLabel: ROLE_LABELS[u.role] ?? u.role, self: u.userId === page.user.id })),
      invites: invites.map((i) => ({ email: i.email, roleLabel: ROLE_LABELS[i.role] ?? i.role, expiresAt: i.expires_at.toISOString(), createdBy: i.created_by })),
      canManage: page.can('team:manage'),
      done: query.done,
    });
  });

  // Inviting ---------------------------------------------------------------------------------

  const renderInviteForm = (page: ServicePage, form: { email?: string | undefined; role?: string | undefined }, errors: FieldErrors = {}, status = 200) =>
    page.render('team-invite.njk', { pageTitle: 'Invite a user', form: { email: form.email ?? '', role: form.role ?? '' }, roles: roleOptions, errors }, { status });

  servicePage(app, kit, { method: 'GET', path: '/team/invite', permission: 'team:manage' }, async ({ page }) => renderInviteForm(page, { role: 'view-only' }));

  servicePage(
    app,
    kit,
    { method: 'POST', path: '/team/invite', permission: 'team:manage', body: inviteBody, stepUpReturn: '/team/invite' },
    async ({ page, body }) => {
      let invite;
      try {
        invite = await createInvite(ctx, { email: body.email ?? '', role: body.role ?? '', serviceId: page.service.id, createdBy: `user:${page.user.id}` });
      } catch (err) {
        const { errors, status } = asFieldError(err, 'email');
        return renderInviteForm(page, body, errors, status);
      }
      let mail: 'sent' | 'not_configured' | 'failed' = 'not_configured';
      if (mailConfigured(ctx)) {
        const outcome = await sendMail(ctx, {
          to: invite.email,
          subject: `You are invited to ${page.service.name} on Coffer`,
          text: [
            `${page.user.email} has invited you to the Coffer console for ${page.service.name}, as ${ROLE_LABELS[invite.role] ?? invite.role}.`,
            '',
            'To accept, open this link (it works once, until ' + invite.expiresAt.toISOString() + '):',
            invite.link,
            '',
            'If you did not expect this, ignore this email.',
          ].join('\n'),
        });
        mail = outcome.sent ? 'sent' : outcome.reason;
      }
      return page.render('team-invite-sent.njk', {
        pageTitle: 'Invitation created',
        invite: { email: invite.email, roleLabel: ROLE_LABELS[invite.role] ?? invite.role, link: invite.link, expiresAt: invite.expiresAt.toISOString() },
        mail,
      });
    },
  );

  // A member: role change and the way to removal ----------------------------------------------

  const renderMember = async (page: ServicePage, userId: string, errors: FieldErrors = {}, status = 200) => {
    const found = await member(kit, page, userId);
    return page.render(
      'team-member.njk',
      { pageTitle: `Team member ${found.email}`, member: { ...found, roleLabel: ROLE_LABELS[found.role] ?? found.role }, roles: roleOptions, self: userId === page.user.id, errors },
      { status },
    );
  };

  servicePage(app, kit, { method: 'GET', path: '/team/members/:userId', permission: 'team:manage', params: memberParams }, async ({ page, params }) =>
    renderMember(page, params.userId),
  );

  servicePage(
    app,
    kit,
    { method: 'POST', path: '/team/members/:userId/role', permission: 'team:manage', params: memberParams, body: roleBody, stepUpReturn: '/team/members/:userId' },
    async ({ page, params, body, reply }) => {
      try {
        await changeRole(ctx, actorOf(page), params.userId, body.role ?? '');
      } catch (err) {
        const { errors, status } = asFieldError(err, 'role');
        return renderMember(page, params.userId, { role: errors[Object.keys(errors)[0]!]! }, status);
      }
      return reply.redirect(`${page.base}/team?done=role`, 303);
    },
  );

  // Leavers -----------------------------------------------------------------------------------

  const renderRemoval = async (page: ServicePage, userId: string, errors: FieldErrors = {}, status = 200) => {
    const preview = await previewRemoval(ctx, actorOf(page), userId);
    return page.render(
      'team-remove.njk',
      {
        pageTitle: `Remove ${preview.email}`,
        leaver: { userId, email: preview.email, roleLabel: ROLE_LABELS[preview.role] ?? preview.role },
        keys: preview.keys.map((k) => ({ id: k.id, name: k.name, mode: k.mode, display: k.display, createdAt: k.created_at, lastUsedAt: k.last_used_at })),
        keyIds: preview.keys.map((k) => k.id).join(','),
        self: userId === page.user.id,
        errors,
      },
      { status },
    );
  };

  servicePage(app, kit, { method: 'GET', path: '/team/members/:userId/remove', permission: 'team:manage', params: memberParams }, async ({ page, params }) =>
    renderRemoval(page, params.userId),
  );

  servicePage(
    app,
    kit,
    { method: 'POST', path: '/team/members/:userId/remove', permission: 'team:manage', params: memberParams, body: removeBody, stepUpReturn: '/team/members/:userId/remove' },
    async ({ page, params, body }) => {
      const confirmed = (body.key_ids ?? '').split(',').filter((id) => id.length > 0);
      let email: string;
      let result;
      try {
        email = (await previewRemoval(ctx, actorOf(page), params.userId)).email;
        result = await removeMember(ctx, actorOf(page), params.userId, confirmed);
      } catch (err) {
        const { errors, status } = asFieldError(err, 'remove');
        return renderRemoval(page, params.userId, errors, status);
      }
      return page.render('team-removed.njk', { pageTitle: `${email} removed`, email, revoked: result.revokedKeyIds, endedSessions: result.endedSessions });
    },
  );
}
