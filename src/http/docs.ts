// The OpenAPI 3.1 document, built from the same zod schemas that validate requests and
// responses, at /openapi.json; and readable docs at /docs (Swagger UI, served from Coffer
// itself, under a CSP that allows only its own files and hashed inline bootstrap).
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { jsonSchemaTransform } from 'fastify-type-provider-zod';
import type { HttpApp } from './types.js';

export async function registerDocs(app: HttpApp, options: { baseUrl: string; version: string }): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Coffer API',
        version: options.version,
        description:
          'Card payments, refunds, agreements and payouts. The payments API is compatible with GOV.UK Pay public API v1. ' +
          'Authenticate with `Authorization: Bearer coffer_test_…` (or `coffer_live_…`).',
      },
      servers: [{ url: options.baseUrl }],
      components: { securitySchemes: { BearerAuth: { type: 'http', scheme: 'bearer' } } },
      security: [{ BearerAuth: [] }],
    },
    transform: jsonSchemaTransform,
  });

  // Swagger UI's own routes are documentation and public; this encapsulated context marks them.
  await app.register(async (docs) => {
    docs.addHook('onRoute', (route) => {
      route.config = { ...(route.config ?? {}), auth: 'public' };
      route.schema = { ...(route.schema ?? {}), hide: true };
    });
    await docs.register(swaggerUi, {
      routePrefix: '/docs',
      uiConfig: { validatorUrl: null, deepLinking: true },
      staticCSP: true,
      transformStaticCSP: (header: string) =>
        header
          .replace("frame-ancestors 'self'", "frame-ancestors 'none'")
          .replace(/ https:/g, '')
          .replace(' validator.swagger.io', '')
          .replace(' upgrade-insecure-requests;', '') + " form-action 'none';",
    });
  });

  app.get('/openapi.json', { config: { auth: 'public' }, schema: { hide: true } }, async () => app.swagger());
}
