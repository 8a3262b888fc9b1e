// Key management over the API, scoped to the calling key's account: a test key sees only test
// keys of its own service; anything else is 404. Secrets appear only in a roll's response.
import { z } from 'zod';
import { principalOf } from '../http/auth.js';
import type { HttpApp } from '../http/types.js';
import type { AppContext } from '../platform/context.js';
import { parseDuration } from '../platform/duration.js';
import { unprocessable } from '../platform/errors.js';
import * as keys from './key.service.js';

const iso = z.string().nullable();
export const keyView = z.object({
  id: z.string(),
  name: z.string(),
  service_id: z.string(),
  mode: z.enum(['test', 'live']),
  display: z.string().describe('The key prefix and its last four characters'),
  scopes: z.array(z.string()),
  allowed_ips: z.array(z.string()),
  status: z.enum(['active', 'expiring', 'expired', 'revoked']),
  created_by: z.string(),
  created_at: z.string(),
  expires_at: iso,
  last_used_at: iso,
  last_used_ip: z.string().nullable(),
  revoked_at: iso,
  revoked_by: z.string().nullable(),
  revoked_reason: z.string().nullable(),
  rolled_from_key_id: z.string().nullable(),
  rolled_to_key_id: z.string().nullable(),
});

const keyParams = z.object({ keyId: z.string().max(64) });

export function keyRoutes(app: HttpApp, ctx: AppContext): void {
  app.get(
    '/v1/keys',
    {
      config: { auth: { scope: 'keys:read' } },
      schema: { tags: ['keys'], summary: "List this account's API keys", response: { 200: z.object({ results: z.array(keyView) }) } },
    },
    async (request) => ({ results: await keys.listKeysForAccount(ctx, principalOf(request).accountId) }),
  );

  app.get(
    '/v1/keys/:keyId',
    {
      config: { auth: { scope: 'keys:read' } },
      schema: { tags: ['keys'], summary: 'Get an API key', params: keyParams, response: { 200: keyView } },
    },
    async (request) => keys.getKeyForAccount(ctx, principalOf(request).accountId, request.params.keyId),
  );

  app.post(
    '/v1/keys/:keyId/revoke',
    {
      config: { auth: { scope: 'keys:write' } },
      schema: {
        tags: ['keys'],
        summary: 'Revoke an API key at once',
        params: keyParams,
        body: z.strictObject({ reason: z.string().max(500).optional() }).optional(),
        response: { 200: keyView },
      },
    },
    async (request) => {
      const key = principalOf(request);
      return keys.revokeKey(ctx, request.params.keyId, { by: key.keyId, reason: request.body?.reason, accountId: key.accountId });
    },
  );

  app.post(
    '/v1/keys/:keyId/roll',
    {
      config: { auth: { scope: 'keys:write' } },
      schema: {
        tags: ['keys'],
        summary: 'Replace an API key; the old one keeps working for the overlap',
        params: keyParams,
        body: z.strictObject({ overlap: z.string().max(10).optional().describe('e.g. "24h", "15m", "0"; default 24h') }).optional(),
        response: { 200: z.object({ key: z.string().describe('The new key, shown only here'), api_key: keyView, previous: keyView }) },
      },
    },
    async (request) => {
      const caller = principalOf(request);
      await keys.getKeyForAccount(ctx, caller.accountId, request.params.keyId);
      const overlapMs = parseDuration(request.body?.overlap ?? '24h');
      if (overlapMs === undefined) throw unprocessable('overlap must look like 30s, 15m, 24h, 7d or 0', 'overlap');
      const rolled = await keys.rollKey(ctx, request.params.keyId, { overlapMs, by: caller.keyId });
      return { key: rolled.token, api_key: rolled.key, previous: rolled.previous };
    },
  );
}
