// Renderers of the `resource` a webhook body carries, by resource type: the payment exactly as
// GET /v1/payments/{id} shows it. A domain registers its renderer here in one line; the fan-out
// renders inside its transaction, so a renderer must use only the context's `db`.
import type { AppContext } from '../platform/context.js';
import { renderPaymentResource } from '../payments/payment.resource.js';
import { renderAlertResource } from '../alerts/alert.service.js';

/** Returns the resource as its API renders it, or undefined when the account has no such resource. */
export type ResourceRenderer = (ctx: AppContext, accountId: string, resourceId: string) => Promise<object | undefined>;

const renderers = new Map<string, ResourceRenderer>();

export function registerResourceRenderer(resourceType: string, renderer: ResourceRenderer): void {
  renderers.set(resourceType, renderer);
}

export function rendererFor(resourceType: string): ResourceRenderer | undefined {
  return renderers.get(resourceType);
}

registerResourceRenderer('payment', renderPaymentResource);
registerResourceRenderer('security_alert', renderAlertResource);
