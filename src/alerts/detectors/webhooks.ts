// A webhook endpoint Coffer disabled (5 days without a success, or 410 Gone): the service must
// hear of it, or it silently stops getting events. Raised in the disabling transaction.
import type { Kysely } from 'kysely';
import type { AppContext } from '../../platform/context.js';
import type { Database } from '../../store/schema.js';
import { raiseAlert } from '../alert.service.js';

export async function alertEndpointDisabled(
  trx: Kysely<Database>,
  ctx: AppContext,
  endpoint: { id: string; service_id: string; account_id: string; url: string },
  reason: string,
): Promise<void> {
  await raiseAlert(trx, ctx, {
    serviceId: endpoint.service_id,
    accountId: endpoint.account_id,
    detector: 'webhook_endpoint_disabled',
    subject: `webhook:${endpoint.id}`,
    severity: 'critical',
    summary: `Webhook endpoint ${endpoint.url} was disabled: ${reason}`,
    details: { endpoint_id: endpoint.id, url: endpoint.url, reason },
  });
}
