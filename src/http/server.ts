// Builds the HTTP application: one function, handed its dependencies, so tests and `coffer
// serve` build exactly the same thing. Route modules register themselves; nothing is
// auto-loaded.
import { readFileSync } from 'node:fs';
import Fastify, { LogController } from 'fastify';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { AppContext } from '../platform/context.js';
import { randomBase62 } from '../platform/random.js';
import { accountRoutes } from '../services/account.routes.js';
import { keyRoutes } from '../keys/key.routes.js';
import { alertRoutes } from '../alerts/alert.routes.js';
import { auditRoutes } from '../audit/audit.routes.js';
import { registerAuditHooks } from '../audit/audit.http.js';
import { metricsRoutes, registerRequestMetrics } from '../metrics/metrics.routes.js';
import { webhookRoutes } from '../webhooks/webhook.routes.js';
import { paymentRoutes } from '../payments/payment.routes.js';
import { refundRoutes } from '../refunds/refund.routes.js';
import { registerPaymentPages } from '../hosted/hosted.pages.js';
import { registerConsolePages } from '../console/pages/console.pages.js';
import { registerAuthentication } from './auth.js';
import { registerDocs } from './docs.js';
import { registerErrorHandling } from './error-handler.js';
import { healthRoutes } from './health.routes.js';
import { registerSecurityHeaders } from './security-headers.js';
import type { HttpApp } from './types.js';

// TLS 1.2 with forward-secret AEAD suites only; TLS 1.3 suites are all AEAD.
const TLS12_AEAD_CIPHERS = [
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
].join(':');

export interface ServerOptions {
  baseUrl: string;
  version: string;
  trustedProxies: string[];
  tls?: { certFile: string; keyFile: string; minVersion: 'TLSv1.2' | 'TLSv1.3' } | undefined;
  securityTxt: { contact: string; expires: Date | undefined };
  /** Bearer token for GET /metrics; without one, /metrics does not exist. */
  metricsToken?: string | undefined;
  /** Benchmarks only (bench/audit.bench.ts): leave request entries out to measure their cost. Not configurable. */
  auditRequests?: boolean | undefined;
}

export async function buildServer(ctx: AppContext, options: ServerOptions): Promise<HttpApp> {
  const https = options.tls
    ? {
        cert: readFileSync(options.tls.certFile),
        key: readFileSync(options.tls.keyFile),
        minVersion: options.tls.minVersion,
        ciphers: TLS12_AEAD_CIPHERS,
        honorCipherOrder: true,
      }
    : null;
  const app = Fastify({
    loggerInstance: ctx.log,
    genReqId: () => `req_${randomBase62(20)}`,
    logController: new LogController({ requestIdLogLabel: 'request_id' }),
    trustProxy: options.trustedProxies.length > 0 ? options.trustedProxies : false,
    bodyLimit: 64 * 1024,
    forceCloseConnections: 'idle',
    return503OnClosing: true,
    ...(https ? { https } : {}),
  }).withTypeProvider<ZodTypeProvider>() as unknown as HttpApp;

  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  registerSecurityHeaders(app, { hsts: options.tls !== undefined || options.baseUrl.startsWith('https://') });
  registerErrorHandling(app);
  // Before authentication: the key check runs inside the request's audit origin.
  registerAuditHooks(app, ctx, { recordRequests: options.auditRequests ?? true });
  registerRequestMetrics(app, ctx);
  registerAuthentication(app, ctx);
  await registerDocs(app, { baseUrl: options.baseUrl, version: options.version });

  healthRoutes(app, ctx, { securityContact: options.securityTxt.contact, securityExpires: options.securityTxt.expires, baseUrl: options.baseUrl });
  accountRoutes(app);
  keyRoutes(app, ctx);
  alertRoutes(app, ctx);
  auditRoutes(app, ctx);
  metricsRoutes(app, ctx, { token: options.metricsToken });
  webhookRoutes(app, ctx);
  paymentRoutes(app, ctx);
  refundRoutes(app, ctx);
  await registerPaymentPages(app, ctx);
  await registerConsolePages(app, ctx);

  return app;
}
