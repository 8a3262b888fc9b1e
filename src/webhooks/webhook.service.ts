// Webhook endpoints and their messages, as the API, CLI and console use them. An endpoint's
// signing secret exists in plaintext only in the value returned by create and rotate; the
// database keeps it sealed with a key derived from the master key for this purpose alone.
import type { AppContext } from '../platform/context.js';
import { recordAudit } from '../audit/audit.service.js';
import { deriveKey, open, seal } from '../platform/encryption.js';
import { conflict, notFound, unprocessable } from '../platform/errors.js';
import { govukStyleId, prefixedId } from '../platform/random.js';
import type { AccountMode } from '../store/schema.js';
import { findAccountByServiceAndMode } from '../services/service.repo.js';
import { requireService } from '../services/service.service.js';
import { BlockedAddressError, hostOf, judgeAddress, NO_EXCEPTIONS } from './address-guard.js';
import { DEFAULT_SUBSCRIPTIONS, isWebhookEventType, WEBHOOK_EVENT_TYPES } from './event-types.js';
import { rendererFor } from './resources.js';
import { webhookSettings } from './settings.js';
import { generateSigningSecret } from './signing.js';
import * as repo from './webhook.repo.js';
import type { EndpointStatus, WebhookAttemptRow, WebhookEndpointRow, WebhookMessageRow, WebhookSecretRow } from './webhook.tables.js';
import { isIP } from 'node:net';

const MAX_OVERLAP_MS = 30 * 86_400_000;
const DEFAULT_OVERLAP_MS = 86_400_000;

// Views ------------------------------------------------------------------------------------------

export interface EndpointView {
  id: string;
  service_id: string;
  mode: AccountMode;
  callback_url: string;
  description: string;
  subscriptions: string[];
  status: EndpointStatus;
  disabled_reason: string | null;
  disabled_date: string | null;
  failing_since: string | null;
  last_success_date: string | null;
  created_by: string;
  created_date: string;
}

const iso = (d: Date | null): string | null => (d === null ? null : d.toISOString());

export function toEndpointView(row: WebhookEndpointRow): EndpointView {
  return {
    id: row.id,
    service_id: row.service_id,
    mode: row.mode,
    callback_url: row.url,
    description: row.description,
    subscriptions: row.event_types,
    status: row.status,
    disabled_reason: row.disabled_reason,
    disabled_date: iso(row.disabled_at),
    failing_since: iso(row.failing_since),
    last_success_date: iso(row.last_success_at),
    created_by: row.created_by,
    created_date: row.created_at.toISOString(),
  };
}

export interface AttemptView {
  id: string;
  message_id: string;
  endpoint_id: string;
  attempt_number: number;
  attempted_date: string;
  url: string;
  address: string | null;
  status_code: number | null;
  duration_ms: number;
  outcome: 'succeeded' | 'failed';
  error: string | null;
  next_attempt_date: string | null;
}

export function toAttemptView(row: WebhookAttemptRow): AttemptView {
  return {
    id: row.id,
    message_id: row.message_id,
    endpoint_id: row.endpoint_id,
    attempt_number: row.attempt_number,
    attempted_date: row.attempted_at.toISOString(),
    url: row.url,
    address: row.address,
    status_code: row.status_code,
    duration_ms: row.duration_ms,
    outcome: row.outcome,
    error: row.error,
    next_attempt_date: iso(row.next_attempt_at),
  };
}

export interface MessageView {
  id: string;
  endpoint_id: string;
  event_type: string;
  resource_type: string;
  resource_id: string;
  event_date: string;
  created_date: string;
  status: 'pending' | 'delivered' | 'abandoned';
  attempt_count: number;
  next_attempt_date: string | null;
  last_attempt_date: string | null;
  last_status_code: number | null;
  delivered_date: string | null;
  /** The body exactly as sent (signatures are over these bytes); routes may withhold it. */
  body: string | null;
  attempts: AttemptView[];
}

function toMessageView(row: WebhookMessageRow, attempts: WebhookAttemptRow[]): MessageView {
  return {
    id: row.id,
    endpoint_id: row.endpoint_id,
    event_type: row.event_type,
    resource_type: row.resource_type,
    resource_id: row.resource_id,
    event_date: row.event_date.toISOString(),
    created_date: row.created_at.toISOString(),
    status: row.status,
    attempt_count: row.attempt_count,
    next_attempt_date: iso(row.next_attempt_at),
    last_attempt_date: iso(row.last_attempt_at),
    last_status_code: row.last_status_code,
    delivered_date: iso(row.delivered_at),
    body: row.body,
    attempts: attempts.filter((a) => a.message_id === row.id).map(toAttemptView),
  };
}

// Secrets ----------------------------------------------------------------------------------------

const secretKey = (ctx: AppContext): Buffer => deriveKey(ctx.masterKey.key, 'webhook-secrets');
const secretContext = (endpointId: string, secretId: string) => `webhook-secret:${endpointId}:${secretId}`;

function sealSecret(ctx: AppContext, endpointId: string, secretId: string, secret: string): string {
  return seal(secretKey(ctx), secret, secretContext(endpointId, secretId));
}

/** The plaintext secrets an endpoint signs with now, oldest first. */
export async function liveSigningSecrets(ctx: AppContext, endpointId: string, now: Date): Promise<string[]> {
  const rows: WebhookSecretRow[] = await repo.listLiveSecrets(ctx.db, endpointId, now);
  return rows.map((row) => open(secretKey(ctx), row.sealed, secretContext(endpointId, row.id)));
}

// Validation -------------------------------------------------------------------------------------

/**
 * A callback URL Coffer may deliver to: http(s) only, https for live, no credentials or
 * fragment, and not a literal address the SSRF guard refuses. Names are checked again at every
 * delivery, against what they resolve to then.
 */
export async function validateCallbackUrl(ctx: AppContext, text: string, mode: AccountMode): Promise<string> {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    throw unprocessable('callback_url must be an absolute http:// or https:// URL', 'callback_url');
  }
  if (text.length > 2048) throw unprocessable('callback_url must be at most 2048 characters', 'callback_url');
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw unprocessable('callback_url must be an http:// or https:// URL', 'callback_url');
  if (mode === 'live' && url.protocol !== 'https:') throw unprocessable('callback_url of a live webhook must use https://', 'callback_url');
  if (url.username !== '' || url.password !== '') throw unprocessable('callback_url must not contain credentials', 'callback_url');
  if (url.hash !== '') throw unprocessable('callback_url must not contain a fragment', 'callback_url');
  const settings = webhookSettings(ctx);
  const exceptions = mode === 'test' ? settings.exceptions : NO_EXCEPTIONS;
  const host = hostOf(url);
  if (isIP(host) !== 0) {
    const verdict = judgeAddress(host, exceptions);
    if (!verdict.allowed) throw unprocessable(`callback_url points to a ${verdict.range} address, which webhooks may not reach`, 'callback_url');
  } else if (!host.includes('.') && !(mode === 'test' && settings.exceptions.names.includes('loopback') && host === 'localhost')) {
    throw unprocessable('callback_url must name a host by its full domain name', 'callback_url');
  } else {
    // A name that resolves now to an address the guard refuses is refused now, not at the first delivery.
    try {
      const addresses = await settings.resolveHost(host);
      for (const { address } of addresses) {
        const verdict = judgeAddress(address, exceptions);
        if (!verdict.allowed) throw new BlockedAddressError(host, address, verdict.range);
      }
    } catch (err) {
      if (err instanceof BlockedAddressError) throw unprocessable(`callback_url ${err.message}`, 'callback_url');
      // A name that does not resolve yet may later; deliveries check again.
    }
  }
  return url.toString();
}

function validateEventTypes(types: readonly string[]): string[] {
  const unique = [...new Set(types.map((t) => t.trim()))];
  if (unique.length === 0) throw unprocessable('subscriptions must name at least one event type', 'subscriptions');
  for (const type of unique) {
    if (!isWebhookEventType(type)) throw unprocessable(`unknown event type "${type}"; known types: ${WEBHOOK_EVENT_TYPES.join(', ')}`, 'subscriptions');
  }
  return unique;
}

function validateDescription(text: string | undefined): string {
  const description = (text ?? '').trim();
  if (description.length > 500) throw unprocessable('description must be at most 500 characters', 'description');
  return description;
}

// Endpoints --------------------------------------------------------------------------------------

export interface CreateEndpointInput {
  serviceId: string;
  mode: AccountMode;
  url: string;
  description?: string | undefined;
  /** Defaults to every event type. */
  eventTypes?: readonly string[] | undefined;
  active?: boolean | undefined;
  createdBy: string;
}

export interface CreatedEndpoint {
  signingSecret: string;
  webhook: EndpointView;
}

export async function createEndpoint(ctx: AppContext, input: CreateEndpointInput): Promise<CreatedEndpoint> {
  await requireService(ctx, input.serviceId);
  const account = await findAccountByServiceAndMode(ctx.db, input.serviceId, input.mode);
  if (!account) throw unprocessable(input.mode === 'live' ? 'The live account is not enabled for this service' : 'The service has no test account', 'mode');
  return createEndpointForAccount(ctx, { ...input, accountId: account.id });
}

export async function createEndpointForAccount(ctx: AppContext, input: CreateEndpointInput & { accountId: string }): Promise<CreatedEndpoint> {
  const url = await validateCallbackUrl(ctx, input.url, input.mode);
  const eventTypes = validateEventTypes(input.eventTypes && input.eventTypes.length > 0 ? input.eventTypes : DEFAULT_SUBSCRIPTIONS);
  const description = validateDescription(input.description);
  const now = ctx.clock.now();
  const endpoint: WebhookEndpointRow = {
    id: prefixedId('wh'),
    service_id: input.serviceId,
    account_id: input.accountId,
    mode: input.mode,
    url,
    description,
    event_types: eventTypes,
    status: input.active === false ? 'inactive' : 'active',
    disabled_reason: null,
    disabled_at: null,
    failing_since: null,
    last_success_at: null,
    created_by: input.createdBy,
    created_at: now,
    updated_at: now,
    version: 1,
  };
  const signingSecret = generateSigningSecret();
  const secretId = prefixedId('whs');
  await ctx.db.transaction().execute(async (trx) => {
    await repo.insertEndpoint(trx, endpoint);
    await repo.insertSecret(trx, {
      id: secretId,
      endpoint_id: endpoint.id,
      sealed: sealSecret(ctx, endpoint.id, secretId, signingSecret),
      created_at: now,
      expires_at: null,
    });
    await recordAudit(trx, { action: 'webhook.create', object: { type: 'webhook', id: endpoint.id }, serviceId: endpoint.service_id, accountId: endpoint.account_id, at: now, details: { url, event_types: eventTypes, status: endpoint.status } });
  });
  return { signingSecret, webhook: toEndpointView(endpoint) };
}

export async function listEndpointsForAccount(ctx: AppContext, accountId: string): Promise<EndpointView[]> {
  return (await repo.listEndpointsByAccount(ctx.db, accountId)).map(toEndpointView);
}

export async function listEndpointsForService(ctx: AppContext, serviceId: string): Promise<EndpointView[]> {
  await requireService(ctx, serviceId);
  return (await repo.listEndpointsByService(ctx.db, serviceId)).map(toEndpointView);
}

async function requireEndpoint(ctx: AppContext, accountId: string, endpointId: string): Promise<WebhookEndpointRow> {
  const endpoint = await repo.findEndpointByAccountAndId(ctx.db, accountId, endpointId);
  if (!endpoint) throw notFound();
  return endpoint;
}

export async function getEndpointForAccount(ctx: AppContext, accountId: string, endpointId: string): Promise<EndpointView> {
  return toEndpointView(await requireEndpoint(ctx, accountId, endpointId));
}

export interface UpdateEndpointInput {
  url?: string | undefined;
  description?: string | undefined;
  eventTypes?: readonly string[] | undefined;
  /** A service switches its endpoint on or off; switching on also clears a disabling. */
  status?: 'active' | 'inactive' | undefined;
}

export async function updateEndpointForAccount(ctx: AppContext, accountId: string, endpointId: string, input: UpdateEndpointInput): Promise<EndpointView> {
  const endpoint = await requireEndpoint(ctx, accountId, endpointId);
  const changes: repo.EndpointChanges = {};
  if (input.url !== undefined) changes.url = await validateCallbackUrl(ctx, input.url, endpoint.mode);
  if (input.description !== undefined) changes.description = validateDescription(input.description);
  if (input.eventTypes !== undefined) changes.event_types = validateEventTypes(input.eventTypes);
  if (input.status !== undefined && input.status !== endpoint.status) changes.status = input.status;
  if (Object.keys(changes).length > 0) {
    const now = ctx.clock.now();
    const updated = await ctx.db.transaction().execute(async (trx) => {
      if (!(await repo.updateEndpoint(trx, accountId, endpointId, endpoint.version, changes, now))) return false;
      await recordAudit(trx, { action: 'webhook.update', object: { type: 'webhook', id: endpointId }, serviceId: endpoint.service_id, accountId, at: now, details: { changes } });
      return true;
    });
    if (!updated) throw conflict('The webhook was changed by another request; try again');
  }
  return getEndpointForAccount(ctx, accountId, endpointId);
}

/**
 * Issues a new signing secret. The old one keeps signing beside it for `overlapMs` (0 ends it
 * now), so a receiver can switch over without missing a delivery.
 */
export async function rotateSecret(
  ctx: AppContext,
  accountId: string,
  endpointId: string,
  overlapMs: number = DEFAULT_OVERLAP_MS,
): Promise<CreatedEndpoint & { previousSecretsExpire: string }> {
  if (!Number.isInteger(overlapMs) || overlapMs < 0 || overlapMs > MAX_OVERLAP_MS) throw unprocessable('overlap must be between 0 and 30 days', 'overlap');
  const now = ctx.clock.now();
  const signingSecret = generateSigningSecret();
  const secretId = prefixedId('whs');
  const endsAt = new Date(now.getTime() + overlapMs);
  await ctx.db.transaction().execute(async (trx) => {
    // The lock serialises rotations of one endpoint, so two at once cannot both keep their old secret alive.
    const locked = await repo.lockEndpoint(trx, accountId, endpointId);
    if (!locked) throw notFound();
    await repo.insertSecret(trx, { id: secretId, endpoint_id: endpointId, sealed: sealSecret(ctx, endpointId, secretId, signingSecret), created_at: now, expires_at: null });
    await repo.expireOtherSecrets(trx, endpointId, secretId, endsAt);
    await recordAudit(trx, { action: 'webhook.rotate_secret', object: { type: 'webhook', id: endpointId }, serviceId: locked.service_id, accountId, at: now, details: { overlap_ms: overlapMs } });
  });
  return { signingSecret, webhook: await getEndpointForAccount(ctx, accountId, endpointId), previousSecretsExpire: endsAt.toISOString() };
}

// Messages ---------------------------------------------------------------------------------------

export async function listMessagesForEndpoint(
  ctx: AppContext,
  accountId: string,
  endpointId: string,
  filter: { status?: 'pending' | 'delivered' | 'abandoned' | undefined; limit?: number | undefined },
): Promise<MessageView[]> {
  await requireEndpoint(ctx, accountId, endpointId);
  const messages = await repo.listMessagesByEndpoint(ctx.db, accountId, endpointId, { status: filter.status, limit: filter.limit ?? 50 });
  const attempts = await repo.listAttemptsByMessages(ctx.db, accountId, messages.map((m) => m.id));
  return messages.map((m) => toMessageView(m, attempts));
}

export async function listAttemptsForEndpoint(ctx: AppContext, accountId: string, endpointId: string, limit = 100): Promise<AttemptView[]> {
  await requireEndpoint(ctx, accountId, endpointId);
  return (await repo.listAttemptsByEndpoint(ctx.db, accountId, endpointId, limit)).map(toAttemptView);
}

export async function getMessageForAccount(ctx: AppContext, accountId: string, endpointId: string, messageId: string): Promise<MessageView> {
  const message = await repo.findMessageByAccountAndId(ctx.db, accountId, messageId);
  if (!message || message.endpoint_id !== endpointId) throw notFound();
  return toMessageView(message, await repo.listAttemptsByMessages(ctx.db, accountId, [message.id]));
}

/** Every message about one resource (a payment), across the account's endpoints, with attempts. */
export async function listMessagesForResource(ctx: AppContext, accountId: string, resourceType: string, resourceId: string): Promise<MessageView[]> {
  const messages = await repo.listMessagesByResource(ctx.db, accountId, resourceType, resourceId);
  if (messages.length === 0) {
    // Only a resource the account has may answer with an empty list; anything else is not found.
    const render = rendererFor(resourceType);
    if (!render || (await render(ctx, accountId, resourceId)) === undefined) throw notFound();
  }
  const attempts = await repo.listAttemptsByMessages(ctx.db, accountId, messages.map((m) => m.id));
  return messages.map((m) => toMessageView(m, attempts));
}

/** Sends a message again, keeping its id (so receivers de-duplicate), with a fresh retry schedule. */
export async function resendMessage(ctx: AppContext, accountId: string, endpointId: string, messageId: string): Promise<MessageView> {
  const message = await repo.findMessageByAccountAndId(ctx.db, accountId, messageId);
  if (!message || message.endpoint_id !== endpointId) throw notFound();
  const endpoint = await requireEndpoint(ctx, accountId, endpointId);
  if (endpoint.status !== 'active') throw conflict(`The webhook is ${endpoint.status}; make it active before re-sending`);
  const now = ctx.clock.now();
  const requeued = await ctx.db.transaction().execute(async (trx) => {
    if (!(await repo.requeueMessage(trx, accountId, messageId, now))) return false;
    await recordAudit(trx, { action: 'webhook.resend', object: { type: 'webhook_message', id: messageId }, serviceId: endpoint.service_id, accountId, at: now, details: { webhook_id: endpointId } });
    return true;
  });
  if (!requeued) throw conflict('The message is being delivered right now; try again in a moment');
  return getMessageForAccount(ctx, accountId, endpointId, messageId);
}

/** A message id in GOV.UK Pay's format, which also suits Standard Webhooks (no "."). */
export const newMessageId = (): string => govukStyleId();
