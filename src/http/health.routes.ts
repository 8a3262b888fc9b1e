// Health for orchestrators and the RFC 9116 security.txt.
import { sql } from 'kysely';
import { z } from 'zod';
import type { AppContext } from '../platform/context.js';
import { pendingMigrations } from '../store/migrate.js';
import type { HttpApp } from './types.js';

const DEFAULT_SECURITY_TXT_LIFETIME_MS = 180 * 86_400_000;

export function healthRoutes(app: HttpApp, ctx: AppContext, options: { securityContact: string; securityExpires: Date | undefined; baseUrl: string }): void {
  app.get(
    '/healthz',
    { config: { auth: 'public' }, schema: { tags: ['health'], summary: 'The process is up', response: { 200: z.object({ status: z.literal('ok') }) } } },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/readyz',
    {
      config: { auth: 'public' },
      schema: {
        tags: ['health'],
        summary: 'The database is reachable and its migrations are current',
        response: { 200: z.object({ status: z.literal('ready') }), 503: z.object({ status: z.literal('not_ready'), reason: z.string() }) },
      },
    },
    async (request, reply) => {
      try {
        await sql`select 1`.execute(ctx.db);
        const pending = await pendingMigrations(ctx.db);
        if (pending.length > 0) return reply.status(503).send({ status: 'not_ready' as const, reason: 'migrations pending' });
        return { status: 'ready' as const };
      } catch (err) {
        request.log.warn({ err }, 'readiness check failed');
        return reply.status(503).send({ status: 'not_ready' as const, reason: 'database unreachable' });
      }
    },
  );

  // Expires is computed when asked, so a long-running node never serves a stale file.
  app.get('/.well-known/security.txt', { config: { auth: 'public' }, schema: { hide: true } }, async (_request, reply) => {
    const expires = options.securityExpires ?? new Date(ctx.clock.now().getTime() + DEFAULT_SECURITY_TXT_LIFETIME_MS);
    const lines = [
      `Contact: ${options.securityContact}`,
      `Expires: ${expires.toISOString().replace(/\.\d{3}Z$/, 'Z')}`,
      'Preferred-Languages: en, cy',
      `Canonical: ${options.baseUrl}/.well-known/security.txt`,
      '',
    ];
    return reply.type('text/plain; charset=utf-8').header('Cache-Control', 'max-age=86400').send(lines.join('\n'));
  });
}
