// Console pages for webhook endpoints of one account: the list (with a clear notice for an
// endpoint Coffer disabled after days of failures, and why), create with the signing secret
// shown once, edit, switch on or off, rotate the secret with an overlap (the new one shown
// once), and each endpoint's messages with every delivery attempt and a re-send.
// Viewing needs webhooks:view; every change needs webhooks:manage, a step-up permission, so its
// form page asks for it too and the second factor is given before the form is seen.
// Registered by service-pages.ts; each page goes through servicePage() in console.shell.ts,
// which does the session, service, allow-list, role and step-up checks before the handler runs.
import { z } from 'zod';
import type { HttpApp } from '../../http/types.js';
import { CofferError } from '../../platform/errors.js';
import { WEBHOOK_EVENT_TYPES, DEFAULT_SUBSCRIPTIONS } from '../../webhooks/event-types.js';
import {
  createEndpointForAccount,
  getEndpointForAccount,
  listEndpointsForAccount,
  listMessagesForEndpoint,
  resendMessage,
  rotateSecret,
  updateEndpointForAccount,
  type EndpointView,
} from '../../webhooks/webhook.service.js';
import type { ConsoleKit, FieldErrors } from './console.kit.js';
import { servicePage, type ServicePage } from './console.shell.js';

const HOUR = 3_600_000;
const OVERLAPS = [
  { value: '0', label: 'None: the old secret stops now', ms: 0 },
  { value: '1h', label: '1 hour', ms: HOUR },
  { value: '24h', label: '24 hours', ms: 24 * HOUR },
  { value: '7d', label: '7 days', ms: 7 * 24 * HOUR },
] as const;

const endpointParams = z.object({ webhookId: z.string().min(1).max(60) });
const messageParams = z.object({ webhookId: z.string().min(1).max(60), messageId: z.string().min(1).max(60) });
const doneQuery = z.object({ done: z.enum(['updated', 'resent', 'active', 'inactive']).optional() });
// A checkbox group posts nothing, one value or several.
const eventTypesField = z.union([z.string().max(60), z.array(z.string().max(60)).max(50)]).optional();
const endpointBody = z.object({ url: z.string().max(3000).optional(), description: z.string().max(5000).optional(), event_types: eventTypesField });
const statusBody = z.object({ status: z.enum(['active', 'inactive']) });
const rotateBody = z.object({ overlap: z.string().max(10).optional() });

interface EndpointForm {
  url: string;
  description: string;
  eventTypes: string[];
}

const asList = (value: string | string[] | undefined): string[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);
const formOf = (body: z.infer<typeof endpointBody>): EndpointForm => ({ url: body.url ?? '', description: body.description ?? '', eventTypes: asList(body.event_types) });

/** A service's refusal (bad URL, unknown type, conflict) as a message on the form. */
function fieldErrorOf(err: unknown, fallback: string): FieldErrors {
  if (!(err instanceof CofferError) || err.status >= 500 || err.status === 404) throw err;
  const field = err.field === 'callback_url' ? 'url' : err.field === 'event_types' || err.field === 'subscriptions' ? 'event_types' : (err.field ?? fallback);
  // The service speaks the API's field names; the form calls them by what they are.
  const message = err.message.replace(/^callback_url/, 'The URL').replace(/^description/, 'The description').replace(/^subscriptions/, 'The event types');
  return { [field]: message };
}

const eventChoices = (selected: readonly string[]) => WEBHOOK_EVENT_TYPES.map((value) => ({ value, checked: selected.includes(value) }));

function endpointRow(e: EndpointView) {
  return { ...e, statusLabel: e.status === 'disabled' ? 'disabled by failures' : e.status };
}

export function registerWebhookPages(app: HttpApp, kit: ConsoleKit): void {
  const { ctx } = kit;

  servicePage(app, kit, { method: 'GET', path: '/webhooks', permission: 'webhooks:view' }, async ({ page }) => {
    const endpoints = (await listEndpointsForAccount(ctx, page.accountId)).map(endpointRow);
    return page.render('webhooks.njk', {
      pageTitle: 'Webhooks',
      endpoints,
      disabled: endpoints.filter((e) => e.status === 'disabled'),
      canManage: page.can('webhooks:manage'),
    });
  });

  // Create -----------------------------------------------------------------------------------

  const renderForm = (page: ServicePage, form: EndpointForm, options: { endpoint?: EndpointView; errors?: FieldErrors; status?: number } = {}) =>
    page.render(
      'webhooks-form.njk',
      {
        pageTitle: options.endpoint ? 'Change webhook' : 'Add a webhook',
        form,
        endpoint: options.endpoint,
        events: eventChoices(form.eventTypes),
        errors: options.errors ?? {},
      },
      { status: options.status ?? 200 },
    );

  servicePage(app, kit, { method: 'GET', path: '/webhooks/new', permission: 'webhooks:manage' }, async ({ page }) =>
    renderForm(page, { url: '', description: '', eventTypes: [...DEFAULT_SUBSCRIPTIONS] }),
  );

  servicePage(
    app,
    kit,
    { method: 'POST', path: '/webhooks/new', permission: 'webhooks:manage', body: endpointBody, stepUpReturn: '/webhooks/new' },
    async ({ page, body }) => {
      const form = formOf(body);
      if (form.eventTypes.length === 0) return renderForm(page, form, { errors: { event_types: 'Choose at least one event type' }, status: 422 });
      try {
        const created = await createEndpointForAccount(ctx, {
          serviceId: page.service.id,
          mode: page.mode,
          accountId: page.accountId,
          url: form.url,
          description: form.description,
          eventTypes: form.eventTypes,
          createdBy: `user:${page.user.id}`,
        });
        return page.render('webhooks-secret.njk', { pageTitle: 'Webhook added', endpoint: created.webhook, secret: created.signingSecret, rotated: false });
      } catch (err) {
        return renderForm(page, form, { errors: fieldErrorOf(err, 'url'), status: 422 });
      }
    },
  );

  // One endpoint: details and deliveries -------------------------------------------------------

  const renderEndpoint = async (page: ServicePage, webhookId: string, extra: { done?: string | undefined; error?: string; status?: number } = {}) => {
    const endpoint = await getEndpointForAccount(ctx, page.accountId, webhookId);
    const messages = await listMessagesForEndpoint(ctx, page.accountId, webhookId, { limit: 50 });
    return page.render(
      'webhooks-endpoint.njk',
      {
        pageTitle: `Webhook ${endpoint.callback_url}`,
        endpoint: endpointRow(endpoint),
        messages,
        canManage: page.can('webhooks:manage'),
        done: extra.done,
        error: extra.error,
      },
      { status: extra.status ?? 200 },
    );
  };

  servicePage(app, kit, { method: 'GET', path: '/webhooks/:webhookId', permission: 'webhooks:view', params: endpointParams, query: doneQuery }, async ({ page, params, query }) =>
    renderEndpoint(page, params.webhookId, { done: query.done }),
  );

  servicePage(app, kit, { method: 'GET', path: '/webhooks/:webhookId/edit', permission: 'webhooks:manage', params: endpointParams }, async ({ page, params }) => {
    const endpoint = await getEndpointForAccount(ctx, page.accountId, params.webhookId);
    return renderForm(page, { url: endpoint.callback_url, description: endpoint.description, eventTypes: endpoint.subscriptions }, { endpoint });
  });

  servicePage(
    app,
    kit,
    { method: 'POST', path: '/webhooks/:webhookId/edit', permission: 'webhooks:manage', params: endpointParams, body: endpointBody, stepUpReturn: '/webhooks/:webhookId/edit' },
    async ({ page, params, body, reply }) => {
      const endpoint = await getEndpointForAccount(ctx, page.accountId, params.webhookId);
      const form = formOf(body);
      if (form.eventTypes.length === 0) return renderForm(page, form, { endpoint, errors: { event_types: 'Choose at least one event type' }, status: 422 });
      try {
        await updateEndpointForAccount(ctx, page.accountId, params.webhookId, { url: form.url, description: form.description, eventTypes: form.eventTypes });
      } catch (err) {
        return renderForm(page, form, { endpoint, errors: fieldErrorOf(err, 'url'), status: 422 });
      }
      return reply.redirect(`${page.base}/webhooks/${encodeURIComponent(params.webhookId)}?done=updated`, 303);
    },
  );

  servicePage(
    app,
    kit,
    { method: 'POST', path: '/webhooks/:webhookId/status', permission: 'webhooks:manage', params: endpointParams, body: statusBody, stepUpReturn: '/webhooks/:webhookId' },
    async ({ page, params, body, reply }) => {
      try {
        await updateEndpointForAccount(ctx, page.accountId, params.webhookId, { status: body.status });
      } catch (err) {
        const errors = fieldErrorOf(err, 'status');
        return renderEndpoint(page, params.webhookId, { error: Object.values(errors)[0], status: 409 });
      }
      return reply.redirect(`${page.base}/webhooks/${encodeURIComponent(params.webhookId)}?done=${body.status}`, 303);
    },
  );

  // Secret rotation --------------------------------------------------------------------------

  const renderRotate = async (page: ServicePage, webhookId: string, errors: FieldErrors = {}, status = 200) =>
    page.render(
      'webhooks-rotate.njk',
      { pageTitle: 'New signing secret', endpoint: await getEndpointForAccount(ctx, page.accountId, webhookId), overlaps: OVERLAPS, errors },
      { status },
    );

  servicePage(app, kit, { method: 'GET', path: '/webhooks/:webhookId/rotate', permission: 'webhooks:manage', params: endpointParams }, async ({ page, params }) =>
    renderRotate(page, params.webhookId),
  );

  servicePage(
    app,
    kit,
    { method: 'POST', path: '/webhooks/:webhookId/rotate', permission: 'webhooks:manage', params: endpointParams, body: rotateBody, stepUpReturn: '/webhooks/:webhookId/rotate' },
    async ({ page, params, body }) => {
      const overlap = OVERLAPS.find((o) => o.value === body.overlap);
      if (!overlap) return renderRotate(page, params.webhookId, { overlap: 'Choose how long the old secret keeps signing' }, 422);
      const rotated = await rotateSecret(ctx, page.accountId, params.webhookId, overlap.ms);
      return page.render('webhooks-secret.njk', {
        pageTitle: 'New signing secret',
        endpoint: rotated.webhook,
        secret: rotated.signingSecret,
        rotated: true,
        overlapLabel: overlap.label,
        previousSecretsExpire: rotated.previousSecretsExpire,
      });
    },
  );

  // Re-send ----------------------------------------------------------------------------------

  servicePage(
    app,
    kit,
    { method: 'POST', path: '/webhooks/:webhookId/messages/:messageId/resend', permission: 'webhooks:manage', params: messageParams, stepUpReturn: '/webhooks/:webhookId' },
    async ({ page, params, reply }) => {
      try {
        await resendMessage(ctx, page.accountId, params.webhookId, params.messageId);
      } catch (err) {
        const errors = fieldErrorOf(err, 'message');
        return renderEndpoint(page, params.webhookId, { error: Object.values(errors)[0], status: 409 });
      }
      return reply.redirect(`${page.base}/webhooks/${encodeURIComponent(params.webhookId)}?done=resent`, 303);
    },
  );
}
