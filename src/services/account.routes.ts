// GET /v1/account: which service, account and mode a key belongs to. A quick key check.
import { z } from 'zod';
import { principalOf } from '../http/auth.js';
import type { HttpApp } from '../http/types.js';

export const accountResponse = z.object({
  service_id: z.string(),
  service_name: z.string(),
  account_id: z.string(),
  mode: z.enum(['test', 'live']),
  key: z.object({ id: z.string(), name: z.string(), scopes: z.array(z.string()) }),
});

export function accountRoutes(app: HttpApp): void {
  app.get(
    '/v1/account',
    {
      config: { auth: 'any-key' },
      schema: { tags: ['account'], summary: 'The service, account and mode of the calling key', response: { 200: accountResponse } },
    },
    async (request) => {
      const key = principalOf(request);
      return {
        service_id: key.serviceId,
        service_name: key.serviceName,
        account_id: key.accountId,
        mode: key.mode,
        key: { id: key.keyId, name: key.name, scopes: [...key.scopes] },
      };
    },
  );
}
