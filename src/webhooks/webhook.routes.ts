// Webhook endpoints over the API, scoped to the calling key's account: another account's
// endpoint, message or payment is simply not found. The signing secret appears only in the
// responses to create and rotate-secret.
import { z } from 'zod';
import { principalOf } from '../http/auth.js';
import type { HttpApp } from '../http/types.js';
import type { AppContext } from '../platform/context.js';
import { parseDuration } from '../platform/duration.js';
import { unprocessable } from '../platform/errors.js';
import { grants } from '../keys/scopes.js';
import type { VerifiedKey } from '../keys/key.verifier.js';
import { WEBHOOK_EVENT_TYPES } from './event-types.js';
import * as webhooks from './webhook.service.js';

const iso = z.string().nullable();
export const endpointView = z.object({
  id: z.string(),
  service_id: z.string(),
  mode: z.enum(['test', 'live']),
  callback_url: z.string(),
  description: z.string(),
  subscriptions: z.array(z.string()),
  status: z.enum(['active', 'inactive', 'disabled']).describe('disabled: switched off by Coffer after failures or a 410; set active to resume'),
  disabled_reason: z.string().nullable(),
  disabled_date: iso,
  failing_since: iso.describe('First failure since the last success; 5 days of this disables the endpoint'),
  last_success_date: iso,
  created_by: z.string(),
  created_date: z.string(),
});

const attemptView = z.object({
  id: z.string(),
  message_id: z.string(),
  endpoint_id: z.string(),
  attempt_number: z.number().int(),
  attempted_date: z.string(),
  url: z.string(),
  address: z.string().nullable().describe('The IP address connected to'),
  status_code: z.number().int().nullable(),
  duration_ms: z.number().int(),
  outcome: z.enum(['succeeded', 'failed']),
  error: z.string().nullable(),
  next_attempt_date: iso,
});

const messageView = z.object({
  id: z.string().describe('webhook_message_id in the body and the webhook-id header; the same on every attempt'),
  endpoint_id: z.string(),
  event_type: z.string(),
  resource_type: z.string(),
  resource_id: z.string(),
  event_date: z.string(),
  created_date: z.string(),
  status: z.enum(['pending', 'delivered', 'abandoned']),
  attempt_count: z.number().int(),
  next_attempt_date: iso,
  last_attempt_date: iso,
  last_status_code: z.number().int().nullable(),
  delivered_date: iso,
  body: z.string().nullable().describe('The body exactly as sent; null unless the key may also read payments (it carries the payment)'),
  attempts: z.array(attemptView),
});

const eventType = z.enum(WEBHOOK_EVENT_TYPES);
const endpointParams = z.object({ webhookId: z.string().max(64) });
const messageParams = z.object({ webhookId: z.string().max(64), messageId: z.string().max(64) });
const created = z.object({ signing_secret: z.string().describe('Shown only here: store it now'), webhook: endpointView });

/**
 * A message's body is the payment as the API shows it (payer email and name included), so a
 * key that may read webhooks but not payments sees the delivery record without it.
 */
function shown<T extends { body: string | null }>(key: VerifiedKey, message: T): T {
  return grants(key.scopes, 'payments:read') ? message : { ...message, body: null };
}

function overlapMs(text: string | undefined): number {
  const ms = parseDuration(text ?? '24h');
  if (ms === undefined) throw unprocessable('overlap must look like 30s, 15m, 24h, 7d or 0', 'overlap');
  return ms;
}

export function webhookRoutes(app: HttpApp, ctx: AppContext): void {
  app.post(
    '/v1/webhooks',
    {
      config: { auth: { scope: 'webhooks:write' } },
      schema: {
        tags: ['webhooks'],
        summary: 'Create a webhook endpoint; the response carries its signing secret, once',
        body: z.strictObject({
          callback_url: z.string().max(2048),
          description: z.string().max(500).optional(),
          subscriptions: z.array(eventType).min(1).max(WEBHOOK_EVENT_TYPES.length).optional().describe('Default: every card_payment_* type; security_alert only when named'),
          status: z.enum(['active', 'inactive']).optional(),
        }),
        response: { 201: created },
      },
    },
    async (request, reply) => {
      const key = principalOf(request);
      const result = await webhooks.createEndpointForAccount(ctx, {
        serviceId: key.serviceId,
        accountId: key.accountId,
        mode: key.mode,
        url: request.body.callback_url,
        description: request.body.description,
        eventTypes: request.body.subscriptions,
        active: request.body.status !== 'inactive',
        createdBy: key.keyId,
      });
      return reply.status(201).send({ signing_secret: result.signingSecret, webhook: result.webhook });
    },
  );

  app.get(
    '/v1/webhooks',
    {
      config: { auth: { scope: 'webhooks:read' } },
      schema: { tags: ['webhooks'], summary: "List this account's webhook endpoints", response: { 200: z.object({ results: z.array(endpointView) }) } },
    },
    async (request) => ({ results: await webhooks.listEndpointsForAccount(ctx, principalOf(request).accountId) }),
  );

  app.get(
    '/v1/webhooks/:webhookId',
    {
      config: { auth: { scope: 'webhooks:read' } },
      schema: { tags: ['webhooks'], summary: 'Get a webhook endpoint', params: endpointParams, response: { 200: endpointView } },
    },
    async (request) => webhooks.getEndpointForAccount(ctx, principalOf(request).accountId, request.params.webhookId),
  );

  app.patch(
    '/v1/webhooks/:webhookId',
    {
      config: { auth: { scope: 'webhooks:write' } },
      schema: {
        tags: ['webhooks'],
        summary: 'Change a webhook endpoint; status active also resumes one Coffer disabled',
        params: endpointParams,
        body: z.strictObject({
          callback_url: z.string().max(2048).optional(),
          description: z.string().max(500).optional(),
          subscriptions: z.array(eventType).min(1).max(WEBHOOK_EVENT_TYPES.length).optional(),
          status: z.enum(['active', 'inactive']).optional(),
        }),
        response: { 200: endpointView },
      },
    },
    async (request) =>
      webhooks.updateEndpointForAccount(ctx, principalOf(request).accountId, request.params.webhookId, {
        url: request.body.callback_url,
        description: request.body.description,
        eventTypes: request.body.subscriptions,
        status: request.body.status,
      }),
  );

  app.post(
    '/v1/webhooks/:webhookId/rotate-secret',
    {
      config: { auth: { scope: 'webhooks:write' } },
      schema: {
        tags: ['webhooks'],
        summary: 'Issue a new signing secret; the old one keeps signing beside it for the overlap',
        params: endpointParams,
        body: z.strictObject({ overlap: z.string().max(10).optional().describe('e.g. "24h" (default), "15m", "0"') }).optional(),
        response: { 200: created.extend({ previous_secrets_expire_date: z.string() }) },
      },
    },
    async (request) => {
      const rotated = await webhooks.rotateSecret(ctx, principalOf(request).accountId, request.params.webhookId, overlapMs(request.body?.overlap));
      return { signing_secret: rotated.signingSecret, webhook: rotated.webhook, previous_secrets_expire_date: rotated.previousSecretsExpire };
    },
  );

  app.get(
    '/v1/webhooks/:webhookId/messages',
    {
      config: { auth: { scope: 'webhooks:read' } },
      schema: {
        tags: ['webhooks'],
        summary: 'Messages for an endpoint, newest first, with every attempt',
        params: endpointParams,
        querystring: z.strictObject({
          status: z.enum(['pending', 'delivered', 'abandoned']).optional(),
          limit: z.coerce.number().int().min(1).max(200).optional(),
        }),
        response: { 200: z.object({ results: z.array(messageView) }) },
      },
    },
    async (request) => ({
      results: (await webhooks.listMessagesForEndpoint(ctx, principalOf(request).accountId, request.params.webhookId, request.query)).map((m) => shown(principalOf(request), m)),
    }),
  );

  app.get(
    '/v1/webhooks/:webhookId/attempts',
    {
      config: { auth: { scope: 'webhooks:read' } },
      schema: {
        tags: ['webhooks'],
        summary: 'Delivery attempts for an endpoint, newest first',
        params: endpointParams,
        querystring: z.strictObject({ limit: z.coerce.number().int().min(1).max(500).optional() }),
        response: { 200: z.object({ results: z.array(attemptView) }) },
      },
    },
    async (request) => ({
      results: await webhooks.listAttemptsForEndpoint(ctx, principalOf(request).accountId, request.params.webhookId, request.query.limit),
    }),
  );

  app.get(
    '/v1/webhooks/:webhookId/messages/:messageId',
    {
      config: { auth: { scope: 'webhooks:read' } },
      schema: { tags: ['webhooks'], summary: 'A message with its attempts', params: messageParams, response: { 200: messageView } },
    },
    async (request) => shown(principalOf(request), await webhooks.getMessageForAccount(ctx, principalOf(request).accountId, request.params.webhookId, request.params.messageId)),
  );

  app.post(
    '/v1/webhooks/:webhookId/messages/:messageId/resend',
    {
      config: { auth: { scope: 'webhooks:write' } },
      schema: {
        tags: ['webhooks'],
        summary: 'Send a message again now (same id, fresh retry schedule)',
        params: messageParams,
        response: { 202: messageView },
      },
    },
    async (request, reply) =>
      reply.status(202).send(shown(principalOf(request), await webhooks.resendMessage(ctx, principalOf(request).accountId, request.params.webhookId, request.params.messageId))),
  );

  app.get(
    '/v1/payments/:paymentId/webhook-messages',
    {
      config: { auth: { scope: 'webhooks:read' } },
      schema: {
        tags: ['webhooks'],
        summary: 'Every webhook message about a payment, across endpoints, with attempts',
        params: z.object({ paymentId: z.string().max(64) }),
        response: { 200: z.object({ results: z.array(messageView) }) },
      },
    },
    async (request) => ({
      results: (await webhooks.listMessagesForResource(ctx, principalOf(request).accountId, 'payment', request.params.paymentId)).map((m) => shown(principalOf(request), m)),
    }),
  );
}
