// GET /v1/audit: the calling account's own audit entries, searchable by actor, action, object
// and time, newest first. The console reads the same service function.
import { z } from 'zod';
import { principalOf } from '../http/auth.js';
import type { HttpApp } from '../http/types.js';
import type { AppContext } from '../platform/context.js';
import { searchAuditForAccount } from './audit.service.js';

const entryView = z.object({
  id: z.string(),
  seq: z.number().nullable().describe('Position in the hash chain; null for a few hundred milliseconds until sealed'),
  occurred_at: z.string(),
  actor: z.object({ type: z.string(), id: z.string() }),
  action: z.string(),
  object: z.object({ type: z.string(), id: z.string() }).nullable(),
  service_id: z.string().nullable(),
  account_id: z.string().nullable(),
  ip: z.string().nullable(),
  user_agent: z.string().nullable(),
  outcome: z.enum(['success', 'failure', 'denied']),
  request_id: z.string().nullable(),
  details: z.record(z.string(), z.unknown()),
  hash: z.string().nullable(),
});

const isoDate = z.iso.datetime({ offset: true }).transform((s) => new Date(s));

const auditQuery = z.strictObject({
  actor: z.string().max(100).optional().describe('An actor id: a key id, user id or operator:name'),
  action: z.string().max(100).regex(/^[a-z0-9_.*]+$/).optional().describe('An action, e.g. key.revoke, or a prefix like payment.*'),
  object_type: z.string().max(50).optional(),
  object_id: z.string().max(100).optional(),
  from: isoDate.optional().describe('Entries at or after this time (ISO 8601)'),
  to: isoDate.optional().describe('Entries before this time (ISO 8601)'),
  cursor: z.string().max(20).optional().describe('next_cursor from the previous page'),
  limit: z.coerce.number().int().min(1).max(500).optional().describe('Default 50'),
});

export function auditRoutes(app: HttpApp, ctx: AppContext): void {
  app.get(
    '/v1/audit',
    {
      config: { auth: { scope: 'audit:read' } },
      schema: {
        tags: ['audit'],
        summary: "Search this account's audit log",
        querystring: auditQuery,
        response: { 200: z.object({ results: z.array(entryView), next_cursor: z.string().nullable() }) },
      },
    },
    async (request) => {
      const key = principalOf(request);
      const q = request.query;
      return searchAuditForAccount(
        ctx,
        { serviceId: key.serviceId, accountId: key.accountId },
        { actor: q.actor, action: q.action, objectType: q.object_type, objectId: q.object_id, from: q.from, to: q.to, cursor: q.cursor, limit: q.limit },
      );
    },
  );
}
