// The outbox of domain events. A domain records its event with the transaction that made the
// change (so there is never a change without its event, nor an event without its change);
// consumers such as webhook delivery follow `seq` to pick events up, at least once.
import type { Kysely } from 'kysely';
import { prefixedId } from '../platform/random.js';
import type { Database, DomainEventRow } from '../store/schema.js';

export interface NewDomainEvent {
  serviceId: string;
  accountId: string;
  resourceType: string;
  resourceId: string;
  eventType: string;
  occurredAt: Date;
  data?: Record<string, unknown>;
}

/** Pass the transaction that makes the change. */
export async function recordDomainEvent(trx: Kysely<Database>, event: NewDomainEvent): Promise<string> {
  const id = prefixedId('evt');
  await trx
    .insertInto('domain_events')
    .values({
      id,
      service_id: event.serviceId,
      account_id: event.accountId,
      resource_type: event.resourceType,
      resource_id: event.resourceId,
      event_type: event.eventType,
      occurred_at: event.occurredAt,
      data: JSON.stringify(event.data ?? {}),
    })
    .execute();
  return id;
}

export async function listEventsForResource(
  db: Kysely<Database>,
  accountId: string,
  resourceType: string,
  resourceId: string,
): Promise<DomainEventRow[]> {
  return db
    .selectFrom('domain_events')
    .selectAll()
    .where('account_id', '=', accountId)
    .where('resource_type', '=', resourceType)
    .where('resource_id', '=', resourceId)
    .orderBy('seq', 'asc')
    .execute();
}

/** Events after a consumer's position, oldest first. */
export async function listEventsAfter(db: Kysely<Database>, afterSeq: number, limit: number): Promise<DomainEventRow[]> {
  return db.selectFrom('domain_events').selectAll().where('seq', '>', afterSeq).orderBy('seq', 'asc').limit(limit).execute();
}
