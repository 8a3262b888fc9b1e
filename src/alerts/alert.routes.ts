// POST /v1/keys/leaked: where secret scanners report Coffer keys they find in public (GitHub's
// secret-scanning partner format: a JSON array of {token, type, url, source}; a single object
// is accepted too). Public, limited per client address, and always the same 202: a reporter
// cannot use it to learn whether a key exists.
import { z } from 'zod';
import type { HttpApp } from '../http/types.js';
import type { AppContext } from '../platform/context.js';
import { cofferError } from '../platform/errors.js';
import * as repo from './alert.repo.js';
import { handleLeakReport } from './detectors/leaked-key.js';

/** Reports accepted per client address per minute. */
export const LEAK_REPORTS_PER_MINUTE = 30;
const MAX_TOKENS = 100;

const report = z.object({
  token: z.string().min(1).max(200),
  type: z.string().max(100).optional(),
  url: z.string().max(2048).optional(),
  source: z.string().max(100).optional(),
});

export function alertRoutes(app: HttpApp, ctx: AppContext): void {
  app.post(
    '/v1/keys/leaked',
    {
      config: { auth: 'public' },
      schema: {
        tags: ['keys'],
        summary: 'Report Coffer API keys found in a public place (for secret scanners)',
        description:
          'Each reported key that still works is revoked at once and its service alerted. The answer is always 202 and says nothing about the keys. ' +
          `Limited to ${LEAK_REPORTS_PER_MINUTE} reports a minute per client address.`,
        body: z.union([report, z.array(report).min(1).max(MAX_TOKENS)]),
        response: { 202: z.object({ status: z.literal('received') }) },
      },
    },
    async (request, reply) => {
      const now = ctx.clock.now().getTime();
      const reports = Array.isArray(request.body) ? request.body : [request.body];
      const count = await repo.bumpCounter(ctx.db, 'leak_reports', `ip:${request.ip}`, new Date(now - (now % 60_000)), reports.length);
      if (count > LEAK_REPORTS_PER_MINUTE) throw cofferError('C0429');
      for (const item of reports) await handleLeakReport(ctx, { token: item.token, url: item.url, source: item.source });
      return reply.code(202).send({ status: 'received' as const });
    },
  );
}
