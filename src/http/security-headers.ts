// Security headers on every response. API responses get the strictest CSP there is; pages
// served later set their own (still without inline script). HSTS is sent whenever Coffer is
// reached over https, directly or through a proxy that terminates TLS (COFFER_BASE_URL).
import type { FastifyInstance } from 'fastify';

export const API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";
export const HSTS = 'max-age=63072000; includeSubDomains; preload';

export function registerSecurityHeaders(app: FastifyInstance, options: { hsts: boolean }): void {
  app.addHook('onRequest', async (request, reply) => {
    reply.header('X-Request-Id', request.id);
    reply.header('X-Content-Type-Options', 'nosniff');
    reply.header('Referrer-Policy', 'no-referrer');
    reply.header('Content-Security-Policy', API_CSP);
    reply.header('X-Frame-Options', 'DENY');
    reply.header('Cross-Origin-Opener-Policy', 'same-origin');
    reply.header('Cross-Origin-Resource-Policy', 'same-origin');
    reply.header('Permissions-Policy', 'camera=(), microphone=(), geolocation=(), payment=()');
    reply.header('Cache-Control', 'no-store');
    if (options.hsts) reply.header('Strict-Transport-Security', HSTS);
  });
}
