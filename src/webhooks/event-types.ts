// The webhook event types a service can subscribe to, and which domain events become which.
// GOV.UK Pay's mapping (reference §11) is followed: approval for capture is "succeeded", a
// refund's success is "refunded" about its parent payment. Coffer adds card_payment_started
// (GOV.UK Pay defines but never sends it) and card_payment_cancelled (a service's own cancel,
// which GOV.UK Pay folds into "failed"). Agreement and payout types join this table when their
// domains emit events; nothing is listed that nothing sends. security_alert carries a
// security alert (src/alerts) to services that subscribe to it.
import type { DomainEventRow } from '../store/schema.js';

export const WEBHOOK_EVENT_TYPES = [
  'card_payment_started',
  'card_payment_succeeded',
  'card_payment_captured',
  'card_payment_refunded',
  'card_payment_failed',
  'card_payment_expired',
  'card_payment_cancelled',
  'security_alert',
] as const;

export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** What an endpoint gets when it names none: the payment events. security_alert is opt-in, so a
 * GOV.UK Pay receiver never meets a resource type it does not know. */
export const DEFAULT_SUBSCRIPTIONS: readonly WebhookEventType[] = WEBHOOK_EVENT_TYPES.filter((t) => t !== 'security_alert');

export function isWebhookEventType(value: string): value is WebhookEventType {
  return (WEBHOOK_EVENT_TYPES as readonly string[]).includes(value);
}

/** What a message is about: the webhook type and the resource its body renders. */
export interface MappedEvent {
  eventType: WebhookEventType;
  resourceType: string;
  resourceId: string;
}

interface Mapping {
  eventType: WebhookEventType;
  /** The resource the body carries; a child event (a refund) names its parent payment. */
  resource: (event: DomainEventRow) => { type: string; id: string } | undefined;
}

const thePayment = (event: DomainEventRow) => (event.resource_type === 'payment' ? { type: 'payment', id: event.resource_id } : undefined);

/** A refund's events are about the refund, or about the payment with the refund in `data`. */
const parentPayment = (event: DomainEventRow) => {
  if (event.resource_type === 'payment') return { type: 'payment', id: event.resource_id };
  const paymentId = event.data.payment_id;
  return typeof paymentId === 'string' ? { type: 'payment', id: paymentId } : undefined;
};

const DOMAIN_EVENT_MAP: Readonly<Record<string, Mapping>> = {
  payment_started: { eventType: 'card_payment_started', resource: thePayment },
  payment_succeeded: { eventType: 'card_payment_succeeded', resource: thePayment },
  payment_captured: { eventType: 'card_payment_captured', resource: thePayment },
  authorisation_rejected: { eventType: 'card_payment_failed', resource: thePayment },
  authorisation_error: { eventType: 'card_payment_failed', resource: thePayment },
  payment_cancelled_by_user: { eventType: 'card_payment_failed', resource: thePayment },
  payment_cancelled: { eventType: 'card_payment_cancelled', resource: thePayment },
  payment_expired: { eventType: 'card_payment_expired', resource: thePayment },
  refund_succeeded: { eventType: 'card_payment_refunded', resource: parentPayment },
  // Coffer's own: a detector raised (or re-raised) an alert; the body carries the alert.
  security_alert: { eventType: 'security_alert', resource: (event) => ({ type: 'security_alert', id: event.resource_id }) },
};

/** The webhook a domain event becomes, or undefined for events no webhook carries. */
export function mapDomainEvent(event: DomainEventRow): MappedEvent | undefined {
  const mapping = Object.hasOwn(DOMAIN_EVENT_MAP, event.event_type) ? DOMAIN_EVENT_MAP[event.event_type] : undefined;
  if (!mapping) return undefined;
  const resource = mapping.resource(event);
  if (!resource) return undefined;
  return { eventType: mapping.eventType, resourceType: resource.type, resourceId: resource.id };
}

/** Domain event types that can produce a webhook: what the fan-out looks for. */
export const MAPPED_DOMAIN_EVENT_TYPES: readonly string[] = Object.keys(DOMAIN_EVENT_MAP);
