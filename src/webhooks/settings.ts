// The webhook settings a context carries, with the safe defaults filled in: a 10 s deadline,
// no private networks, the system resolver.
import type { AppContext, WebhookSettings } from '../platform/context.js';
import { parseNetworkExceptions, systemResolver, type NetworkExceptions } from './address-guard.js';

export const DEFAULT_TIMEOUT_MS = 10_000;

export interface EffectiveWebhookSettings extends WebhookSettings {
  exceptions: NetworkExceptions;
}

export function webhookSettings(ctx: AppContext): EffectiveWebhookSettings {
  const given = ctx.webhooks ?? {};
  const allowPrivateNetworks = given.allowPrivateNetworks ?? [];
  const { exceptions, problems } = parseNetworkExceptions(allowPrivateNetworks);
  if (problems.length > 0) throw new TypeError(`not a network range: ${problems.join(', ')}`);
  return {
    timeoutMs: given.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    allowPrivateNetworks,
    resolveHost: given.resolveHost ?? systemResolver,
    exceptions,
  };
}
