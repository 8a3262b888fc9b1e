// Types shared by every route module, and the per-route config each route declares.
import type { FastifyBaseLogger, FastifyInstance, RawReplyDefaultExpression, RawRequestDefaultExpression, RawServerDefault } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { CofferError } from '../platform/errors.js';
import type { VerifiedKey } from '../keys/key.verifier.js';
import type { Scope } from '../keys/scopes.js';

export type HttpApp = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  ZodTypeProvider
>;

/**
 * Who may call a route. Every route says so explicitly; a route that does not is treated as
 * needing a valid key with no particular scope (deny by default, never allow by default).
 */
export type RouteAuth = 'public' | 'any-key' | { scope: Scope };

export interface ValidationIssue {
  /** body | querystring | params | headers */
  location: string;
  path: string;
  code: string;
  message: string;
  /** Present in the request as sent (as opposed to missing). */
  present: boolean;
  unexpectedKeys: string[];
}

declare module 'fastify' {
  interface FastifyContextConfig {
    auth?: RouteAuth;
    /** Turns schema validation failures into the error format of this route's API. */
    validationError?: (issues: ValidationIssue[]) => CofferError;
  }
  interface FastifyRequest {
    principal: VerifiedKey | undefined;
  }
}
