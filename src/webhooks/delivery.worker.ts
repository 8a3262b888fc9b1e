// Delivers due webhook messages. A worker claims a batch (FOR UPDATE SKIP LOCKED, then a lease:
// next_attempt_at moves past the attempt's deadline), sends each outside any transaction, and
// records the attempt and its outcome in one transaction, compare-and-set on its claim. A worker
// that dies mid-delivery leaves its messages to be claimed again when the lease runs out: at
// least once, never lost, and each message keeps its id.
import { recordAudit } from '../audit/audit.service.js';
import type { AppContext } from '../platform/context.js';
import { prefixedId, randomToken } from '../platform/random.js';
import type { Worker } from '../platform/worker.js';
import { recordDomainEvent } from '../events/event.repo.js';
import { NO_EXCEPTIONS } from './address-guard.js';
import { sendWebhook, type SendOutcome } from './http-sender.js';
import { nextAttemptAt, parseRetryAfter } from './retry-schedule.js';
import { webhookSettings, type EffectiveWebhookSettings } from './settings.js';
import { signDelivery } from './signing.js';
import * as repo from './webhook.repo.js';
import { liveSigningSecrets } from './webhook.service.js';
import type { WebhookEndpointRow, WebhookMessageRow } from './webhook.tables.js';
import { alertEndpointDisabled } from '../alerts/detectors/webhooks.js';

const BATCH = 20;
/** An endpoint failing for this long without a single success is disabled (Svix: 5 days). */
export const DISABLE_AFTER_MS = 5 * 86_400_000;
/** How long past its deadline a claimed attempt is left alone before another worker may retry it. */
const LEASE_MARGIN_MS = 60_000;

export const webhookDeliveryWorker: Worker = {
  name: 'webhook-delivery',
  intervalMs: 1000,
  run: deliverDueMessages,
};

export async function deliverDueMessages(ctx: AppContext): Promise<{ handled: number; more: boolean }> {
  const settings = webhookSettings(ctx);
  const now = ctx.clock.now();
  const claimId = randomToken(16);
  const leaseUntil = new Date(now.getTime() + settings.timeoutMs + LEASE_MARGIN_MS);
  const messages = await repo.claimDueMessages(ctx.db, now, leaseUntil, claimId, BATCH);
  // A batch often holds many messages for one endpoint: load it and open its secrets once.
  const targets = new Map<string, Promise<Target>>();
  const targetOf = (endpointId: string) => {
    let target = targets.get(endpointId);
    if (!target) targets.set(endpointId, (target = loadTarget(ctx, endpointId, now)));
    return target;
  };
  await Promise.all(
    messages.map(async (message) => {
      try {
        await deliverOne(ctx, settings, await targetOf(message.endpoint_id), message, claimId);
      } catch (err) {
        // One message that cannot be signed or recorded must not stop the others; its lease
        // runs out and it is tried again, and the log says why.
        ctx.log.error({ err, webhookMessageId: message.id, endpointId: message.endpoint_id }, 'webhook delivery failed before an attempt could be recorded');
      }
    }),
  );
  return { handled: messages.length, more: messages.length === BATCH };
}

interface Target {
  endpoint: WebhookEndpointRow;
  secrets: string[];
}

async function loadTarget(ctx: AppContext, endpointId: string, now: Date): Promise<Target> {
  const endpoint = await repo.findEndpointById(ctx.db, endpointId);
  if (!endpoint) throw new TypeError(`no webhook endpoint ${endpointId}`);
  return { endpoint, secrets: await liveSigningSecrets(ctx, endpoint.id, now) };
}

async function deliverOne(ctx: AppContext, settings: EffectiveWebhookSettings, target: Target, message: WebhookMessageRow, claimId: string): Promise<void> {
  const { endpoint } = target;
  const attemptedAt = ctx.clock.now();
  let outcome: SendOutcome;
  try {
    outcome = await send(settings, target, message, attemptedAt);
  } catch (err) {
    ctx.log.error({ err, messageId: message.id }, 'webhook attempt failed unexpectedly');
    outcome = { ok: false, statusCode: null, error: 'internal error before sending', address: null, retryAfter: null, durationMs: 0, gone: false };
  }
  await recordOutcome(ctx, endpoint, message, claimId, attemptedAt, outcome);
}

async function send(settings: EffectiveWebhookSettings, { endpoint, secrets }: Target, message: WebhookMessageRow, at: Date): Promise<SendOutcome> {
  const url = new URL(endpoint.url);
  if (endpoint.mode === 'live' && url.protocol !== 'https:') {
    return { ok: false, statusCode: null, error: 'refused: live webhooks are sent over https only', address: null, retryAfter: null, durationMs: 0, gone: false };
  }
  const headers = signDelivery(secrets, message.id, at, message.body);
  return sendWebhook({
    url,
    headers: { ...headers },
    body: message.body,
    timeoutMs: settings.timeoutMs,
    resolver: settings.resolveHost,
    // The operator's exceptions to the SSRF guard are for test endpoints only.
    exceptions: endpoint.mode === 'test' ? settings.exceptions : NO_EXCEPTIONS,
  });
}

async function recordOutcome(
  ctx: AppContext,
  endpoint: WebhookEndpointRow,
  message: WebhookMessageRow,
  claimId: string,
  attemptedAt: Date,
  outcome: SendOutcome,
): Promise<void> {
  const at = ctx.clock.now();
  const retryAfterMs = outcome.ok ? undefined : parseRetryAfter(outcome.retryAfter, at);
  const next = outcome.ok || outcome.gone ? undefined : nextAttemptAt(message.schedule_start, message.schedule_attempts, at, retryAfterMs);
  let disabledFor: string | undefined;
  // A success on a healthy endpoint changes nothing about it (last_success_at is kept to the
  // minute), so it neither locks nor updates the endpoint row, which a busy endpoint's
  // deliveries would otherwise queue on.
  const quietSuccess =
    outcome.ok && endpoint.failing_since === null && endpoint.last_success_at !== null && at.getTime() - endpoint.last_success_at.getTime() < 60_000;
  await ctx.db.transaction().execute(async (trx) => {
    if (!quietSuccess) await repo.lockEndpointForOutcome(trx, endpoint.id);
    await repo.insertAttempt(trx, {
      id: prefixedId('wha'),
      message_id: message.id,
      endpoint_id: endpoint.id,
      account_id: message.account_id,
      attempt_number: message.attempt_count,
      attempted_at: attemptedAt,
      url: endpoint.url,
      address: outcome.address,
      status_code: outcome.statusCode,
      duration_ms: outcome.durationMs,
      outcome: outcome.ok ? 'succeeded' : 'failed',
      error: outcome.error,
      retry_after_ms: retryAfterMs ?? null,
      next_attempt_at: next ?? null,
    });
    const settled = await repo.settleClaim(
      trx,
      message.id,
      claimId,
      outcome.ok
        ? { status: 'delivered', at, statusCode: outcome.statusCode }
        : next
          ? { status: 'pending', at, statusCode: outcome.statusCode, nextAttemptAt: next }
          : { status: 'abandoned', at, statusCode: outcome.statusCode },
    );
    // A worker whose lease ran out records what it did, but the message belongs to another now.
    if (!settled) return;
    if (outcome.ok) {
      if (!quietSuccess) await repo.recordEndpointSuccess(trx, endpoint.id, at);
      return;
    }
    const failingSince = await repo.recordEndpointFailure(trx, endpoint.id, at);
    if (outcome.gone) disabledFor = 'The endpoint answered 410 Gone';
    else if (failingSince && at.getTime() - failingSince.getTime() >= DISABLE_AFTER_MS) disabledFor = 'No successful delivery for 5 days';
    if (disabledFor && (await repo.disableEndpoint(trx, endpoint.id, at, disabledFor))) {
      await repo.abandonPendingForEndpoint(trx, endpoint.id, at);
      // Alerts and the console pick this up from the outbox.
      await recordDomainEvent(trx, {
        serviceId: endpoint.service_id,
        accountId: endpoint.account_id,
        resourceType: 'webhook_endpoint',
        resourceId: endpoint.id,
        eventType: 'webhook_endpoint_disabled',
        occurredAt: at,
        data: { reason: disabledFor, url: endpoint.url, failing_since: failingSince?.toISOString() ?? null },
      });
      await recordAudit(trx, { actor: { type: 'system', id: 'webhook-delivery' }, action: 'webhook.endpoint_disabled', object: { type: 'webhook', id: endpoint.id }, serviceId: endpoint.service_id, accountId: endpoint.account_id, at, details: { reason: disabledFor } });
      await alertEndpointDisabled(trx, ctx, endpoint, disabledFor);
    } else {
      disabledFor = undefined;
    }
  });
  ctx.log.info(
    {
      webhookMessageId: message.id,
      endpointId: endpoint.id,
      attempt: message.attempt_count,
      statusCode: outcome.statusCode,
      durationMs: outcome.durationMs,
      error: outcome.error ?? undefined,
      nextAttemptAt: next?.toISOString(),
    },
    outcome.ok ? 'webhook delivered' : next ? 'webhook attempt failed; will retry' : 'webhook attempt failed; giving up',
  );
  if (disabledFor) ctx.log.warn({ endpointId: endpoint.id, serviceId: endpoint.service_id, reason: disabledFor }, 'webhook endpoint disabled');
}
