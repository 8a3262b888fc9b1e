// Renders every failure in the API's own body shape, with the request id. Expected failures
// (CofferError) say what went wrong; anything else is a bug: the client gets a generic 500
// and the log gets the detail (scrubbed of card numbers and keys by the logger).
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { CofferError, cofferError } from '../platform/errors.js';
import type { ValidationIssue } from './types.js';

export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const coffer = toCofferError(error, request);
    if (coffer.status >= 500) request.log.error({ err: error }, 'request failed');
    else request.log.info({ code: coffer.code, status: coffer.status }, 'request refused');
    return sendError(reply, coffer, request.id);
  });

  app.setNotFoundHandler((request, reply) => sendError(reply, cofferError('C0405'), request.id));
}

export function sendError(reply: FastifyReply, error: CofferError, requestId: string): FastifyReply {
  if (error.status === 401) reply.header('WWW-Authenticate', 'Bearer');
  return reply.status(error.status).type('application/json').send(error.toBody(requestId));
}

function toCofferError(error: FastifyError, request: FastifyRequest): CofferError {
  if (error instanceof CofferError) return error;
  if (hasZodFastifySchemaValidationErrors(error)) {
    const issues = toIssues(error, request);
    const mapper = request.routeOptions.config.validationError ?? defaultValidationError;
    return mapper(issues);
  }
  switch (error.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return request.routeOptions.config.validationError?.([
        { location: 'body', path: '', code: 'invalid_json', message: 'unparseable', present: false, unexpectedKeys: [] },
      ]) ?? cofferError('C0197');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return cofferError('C0198');
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return cofferError('C0199');
  }
  if (error instanceof SyntaxError && 'statusCode' in error && error.statusCode === 400) return cofferError('C0197');
  return cofferError('C0500');
}

function toIssues(error: { validation: { instancePath: string; keyword: string; message?: string; params: Record<string, unknown> }[]; validationContext?: string }, request: FastifyRequest): ValidationIssue[] {
  const location = error.validationContext ?? 'body';
  const source: unknown = location === 'querystring' ? request.query : location === 'params' ? request.params : location === 'headers' ? request.headers : request.body;
  return error.validation.map((v) => {
    const segments = v.instancePath.split('/').filter(Boolean);
    return {
      location,
      path: segments.join('.'),
      code: v.keyword,
      message: v.message ?? 'is invalid',
      present: valueAt(source, segments) !== undefined,
      unexpectedKeys: Array.isArray(v.params.keys) ? (v.params.keys as string[]) : [],
    };
  });
}

function valueAt(source: unknown, segments: string[]): unknown {
  let value = source;
  for (const segment of segments) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[segment];
  }
  return value;
}

/** Coffer's own endpoints: missing → C0101, unexpected → C0104, anything else → C0102. */
export function defaultValidationError(issues: ValidationIssue[]): CofferError {
  const unexpected = issues.find((i) => i.code === 'unrecognized_keys');
  if (unexpected) return cofferError('C0104', [unexpected.unexpectedKeys.join(', ')], { field: unexpected.unexpectedKeys[0] ?? '' });
  const missing = issues.find((i) => !i.present && i.path !== '');
  if (missing) return cofferError('C0101', [missing.path], { field: missing.path });
  const first = issues[0];
  if (!first) return cofferError('C0102', ['request', 'is invalid']);
  const field = first.path === '' ? first.location : first.path;
  return cofferError('C0102', [field, sentence(first.message)], { field });
}

function sentence(message: string): string {
  return message.length > 0 ? message[0]!.toUpperCase() + message.slice(1) : message;
}
