// Turns domain events into webhook messages: one per subscribed endpoint, each with its own id
// (kept across retries) and its body rendered once, so every attempt signs the same bytes.
// One node at a time holds the cursor (FOR UPDATE SKIP LOCKED); messages and the cursor move in
// one transaction, and a message is unique per (endpoint, event), so a re-run never duplicates.
import { sql, type Kysely } from 'kysely';
import type { AppContext } from '../platform/context.js';
import type { Worker } from '../platform/worker.js';
import type { Database } from '../store/schema.js';
import { mapDomainEvent } from './event-types.js';
import { rendererFor } from './resources.js';
import * as repo from './webhook.repo.js';
import { newMessageId } from './webhook.service.js';

const BATCH = 200;

export const webhookFanoutWorker: Worker = {
  name: 'webhook-fanout',
  intervalMs: 1000,
  async run(ctx) {
    return ctx.db.transaction().execute(async (trx) => {
      const cursor = await repo.lockFanoutCursor(trx);
      if (!cursor) return { handled: 0, more: false };
      const events = await repo.listFinalEventsAfter(trx, cursor, BATCH);
      const last = events.at(-1);
      if (!last) return { handled: 0, more: false };
      const inTransaction: AppContext = { ...ctx, db: trx };
      for (const event of events) await fanOut(inTransaction, trx, event);
      await repo.advanceFanoutCursor(trx, { lastTxId: last.tx_id, lastSeq: last.seq });
      return { handled: events.length, more: events.length === BATCH };
    });
  },
};

async function fanOut(ctx: AppContext, trx: Kysely<Database>, event: repo.FinalEvent): Promise<void> {
  const mapped = mapDomainEvent(event);
  if (!mapped) return;
  const endpoints = await repo.findSubscribedEndpoints(trx, event.account_id, mapped.eventType, event.occurred_at);
  if (endpoints.length === 0) return;
  const resource = await render(ctx, trx, mapped.resourceType, event.account_id, mapped.resourceId, event.id);
  if (resource === undefined) return;
  const now = ctx.clock.now();
  for (const endpoint of endpoints) {
    const id = newMessageId();
    // GOV.UK Pay's body, field for field and in its order.
    const body = JSON.stringify({
      webhook_message_id: id,
      created_date: event.occurred_at.toISOString(),
      resource_id: mapped.resourceId,
      api_version: 1,
      resource_type: mapped.resourceType,
      event_type: mapped.eventType,
      resource,
    });
    await repo.insertMessage(trx, {
      id,
      endpoint_id: endpoint.id,
      service_id: event.service_id,
      account_id: event.account_id,
      event_id: event.id,
      event_type: mapped.eventType,
      resource_type: mapped.resourceType,
      resource_id: mapped.resourceId,
      body,
      event_date: event.occurred_at,
      created_at: now,
      status: 'pending',
      schedule_start: now,
      next_attempt_at: now,
      claim_id: null,
      last_attempt_at: null,
      last_status_code: null,
      delivered_at: null,
      updated_at: now,
    });
  }
}

/**
 * Renders the resource inside a savepoint: a renderer that fails (a bug, a missing row) costs
 * that one event its webhook and an error in the log, not the whole pipeline.
 */
async function render(
  ctx: AppContext,
  trx: Kysely<Database>,
  resourceType: string,
  accountId: string,
  resourceId: string,
  eventId: string,
): Promise<object | undefined> {
  const renderer = rendererFor(resourceType);
  if (!renderer) {
    ctx.log.error({ resourceType, eventId }, 'webhook not sent: no renderer for this resource type');
    return undefined;
  }
  await sql`savepoint webhook_render`.execute(trx);
  try {
    const resource = await renderer(ctx, accountId, resourceId);
    await sql`release savepoint webhook_render`.execute(trx);
    if (resource === undefined) ctx.log.error({ resourceType, resourceId, eventId }, 'webhook not sent: the resource was not found');
    return resource;
  } catch (err) {
    await sql`rollback to savepoint webhook_render`.execute(trx);
    ctx.log.error({ err, resourceType, resourceId, eventId }, 'webhook not sent: rendering the resource failed');
    return undefined;
  }
}
