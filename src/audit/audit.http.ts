// Records every API request in the audit log, reads and refusals included (PCI DSS 10.2.1:
// all access, invalid access attempts), and makes the request's origin available to the
// domain code that records changes. Register before authentication, so that the key check
// already runs inside the request's origin.
//
// The entry is built after the response is sent (onResponse) and handed, uncleaned, to the
// batched writer, so a request pays for an object and an array push: cleaning, sealing and the
// database happen per batch, on PostgreSQL in a thread of their own (audit.writer.ts).
import type { FastifyContextConfig, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../platform/context.js';
import type { AuditActor } from './audit.entry.js';
import { runWithOrigin } from './audit.origin.js';
import { auditWriterFor } from './audit.writer.js';

/** How authentication ended for a refused request; set by src/http/auth.ts. */
export interface AuthOutcome {
  code: string;
  keyId?: string | undefined;
  serviceId?: string | undefined;
  accountId?: string | undefined;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Request-level audit: by default every route that is not public; 'always' records a public route too. Refusals (401, 403) are always recorded. */
    audit?: 'always' | 'never';
  }
  interface FastifyRequest {
    authOutcome: AuthOutcome | undefined;
    /** Who is acting when it is not an API key (the console sets its signed-in user). */
    auditActor: AuditActor | undefined;
  }
}

function actorOf(request: FastifyRequest): AuditActor | undefined {
  if (request.principal) return { type: 'key', id: request.principal.keyId };
  if (request.auditActor) return request.auditActor;
  if (request.authOutcome?.keyId) return { type: 'key', id: request.authOutcome.keyId };
  return undefined;
}

function shouldRecord(request: FastifyRequest, config: FastifyContextConfig, status: number): boolean {
  if (status === 401 || status === 403) return true;
  if (config.audit === 'never') return false;
  if (config.audit === 'always') return true;
  if (request.is404) return request.url.startsWith('/v1/');
  return config.auth !== 'public';
}

/** `/v1/keys/:keyId` → the object is the key; a route with no single id param names none. */
function objectOf(request: FastifyRequest): { type: string; id: string } | undefined {
  const params = request.params;
  if (params === null || typeof params !== 'object') return undefined;
  const entries = Object.entries(params as Record<string, unknown>).filter(([name, value]) => name.endsWith('Id') && typeof value === 'string');
  if (entries.length === 0) return undefined;
  const [name, value] = entries[entries.length - 1]!;
  return { type: name.slice(0, -2).replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase(), id: String(value) };
}

const SYSTEM_ORIGIN = { actor: { type: 'system', id: 'coffer' }, ip: null, userAgent: null, requestId: null } as const;

export function registerAuditHooks(app: FastifyInstance, ctx: AppContext, options: { recordRequests: boolean } = { recordRequests: true }): void {
  const writer = auditWriterFor(ctx.db, ctx.log);
  app.decorateRequest('authOutcome', undefined);
  app.decorateRequest('auditActor', undefined);

  app.addHook('onRequest', (request, _reply, done) => {
    const userAgent = request.headers['user-agent'];
    runWithOrigin(
      { ip: request.ip, userAgent: typeof userAgent === 'string' ? userAgent : null, requestId: request.id, actor: () => actorOf(request) },
      done,
    );
  });

  function record(request: FastifyRequest, reply: FastifyReply): void {
    const status = reply.statusCode;
    // Fastify builds routeOptions afresh on every read: read it once.
    const route = request.routeOptions;
    if (!options.recordRequests || !shouldRecord(request, route.config, status)) return;
    const principal = request.principal;
    const outcome = request.authOutcome;
    const userAgent = request.headers['user-agent'];
    writer.push({
      actor: actorOf(request) ?? { type: 'anonymous', id: 'anonymous' },
      action: status === 401 ? 'auth.failure' : status === 403 ? 'auth.denied' : 'api.request',
      object: objectOf(request),
      serviceId: principal?.serviceId ?? outcome?.serviceId ?? null,
      accountId: principal?.accountId ?? outcome?.accountId ?? null,
      at: ctx.clock.now(),
      outcome: status === 401 || status === 403 ? 'denied' : status >= 400 ? 'failure' : 'success',
      ip: request.ip,
      userAgent: typeof userAgent === 'string' ? userAgent : null,
      requestId: request.id,
      details: {
        method: request.method,
        route: request.is404 ? 'unmatched' : route.url,
        status,
        duration_ms: Math.round(reply.elapsedTime * 10) / 10,
        ...(outcome ? { auth: outcome.code } : {}),
      },
    });
  }

  // A callback hook, not an async one: it runs after every response and needs no promise.
  app.addHook('onResponse', (request, reply, done) => {
    try {
      record(request, reply);
    } catch (err) {
      done(err as Error);
      return;
    }
    done();
  });

  // PCI DSS 10.2.1.6: starting and stopping the audit log are themselves logged.
  app.addHook('onReady', async () => {
    writer.push({ ...SYSTEM_ORIGIN, action: 'audit.started', at: ctx.clock.now() });
  });
  app.addHook('onClose', async () => {
    writer.push({ ...SYSTEM_ORIGIN, action: 'audit.stopped', at: ctx.clock.now() });
    await writer.close();
  });
}
