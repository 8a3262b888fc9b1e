// Keeps the webhook history bounded: messages that are finished (delivered or abandoned) and
// untouched for 30 days are deleted with their attempts. Pending messages are never deleted.
// (GOV.UK Pay keeps 7 days; Coffer keeps a month so a service can look back over a billing
// period.) Batches are claimed with SKIP LOCKED, so nodes share the work.
import { sql } from 'kysely';
import type { Worker } from '../platform/worker.js';

export const MESSAGE_RETENTION_MS = 30 * 86_400_000;
const BATCH = 1000;

export const webhookRetentionWorker: Worker = {
  name: 'webhook-retention',
  intervalMs: 10 * 60_000,
  async run(ctx) {
    const cutoff = new Date(ctx.clock.now().getTime() - MESSAGE_RETENTION_MS);
    const result = await sql<{ id: string }>`
      with old as (
        select id from webhook_messages
        where status <> 'pending' and updated_at < ${cutoff}
        order by updated_at
        limit ${BATCH}
        for update skip locked
      ), attempts as (
        delete from webhook_attempts a using old where a.message_id = old.id
      )
      delete from webhook_messages m using old where m.id = old.id
      returning m.id
    `.execute(ctx.db);
    return { handled: result.rows.length, more: result.rows.length === BATCH };
  },
};
