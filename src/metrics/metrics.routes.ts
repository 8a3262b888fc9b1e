// GET /metrics in Prometheus text format. Not an API-key route: it has its own bearer token
// (COFFER_METRICS_TOKEN), compared in constant time. Without a token configured the route does
// not exist (404), so a deployment never exposes metrics by accident.
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../platform/context.js';
import { cofferError } from '../platform/errors.js';
import { constantTimeEqual } from '../platform/hashing.js';
import type { HttpApp } from '../http/types.js';
import { metricsFor } from './metrics.js';
import { auditWriterFor } from '../audit/audit.writer.js';
import './sources.js';

const BEARER = /^Bearer ([^\s]+)$/;

/** Counts and times every request by its route template (never the raw URL: bounded labels). */
export function registerRequestMetrics(app: FastifyInstance, ctx: AppContext): void {
  const metrics = metricsFor(ctx);
  app.addHook('onResponse', async (request, reply) => {
    const route = request.is404 ? 'unmatched' : (request.routeOptions.url ?? 'unmatched');
    metrics.httpRequests.inc({ method: request.method, route, status: String(reply.statusCode) });
    metrics.httpDuration.observe({ method: request.method, route }, reply.elapsedTime / 1000);
  });
}

export function metricsRoutes(app: HttpApp, ctx: AppContext, options: { token: string | undefined }): void {
  const token = options.token;
  // eslint-disable-next-line security/detect-possible-timing-attacks -- presence of configuration, not a secret comparison
  if (token === undefined) return;
  const metrics = metricsFor(ctx);
  app.get('/metrics', { config: { auth: 'public', audit: 'never' }, schema: { hide: true } }, async (request, reply) => {
    const presented = BEARER.exec((request.headers.authorization ?? '').trim())?.[1];
    if (presented === undefined || !constantTimeEqual(presented, token)) throw cofferError('C0401');
    metrics.auditQueue.set(auditWriterFor(ctx.db, ctx.log).pending);
    if (ctx.redis) metrics.redisConnected.set(ctx.redis.status === 'ready' ? 1 : 0);
    return reply.type(metrics.contentType).send(await metrics.render());
  });
}
