// The GOV.UK Pay-compatible payments API. Handlers are a few lines: parse, call one service
// function, shape the reply. Errors use GOV.UK Pay's P-codes (payment.errors.ts).
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { principalOf } from '../http/auth.js';
import type { HttpApp } from '../http/types.js';
import type { AppContext } from '../platform/context.js';
import { paymentError } from './payment.errors.js';
import {
  createPaymentBody,
  createPaymentValidationError,
  errorResponse,
  paymentEventsResponse,
  paymentParams,
  paymentResponse,
  paymentSearchQuery,
  paymentSearchResponse,
  searchValidationError,
} from './payment.schemas.js';
import * as payments from './payment.service.js';
import { searchPaymentsForAccount } from './payment.search.js';
import type { CreatePaymentInput } from './payment.service.js';
import { takeRequest, type RateBucket } from './rate-limit.js';
import { IDEMPOTENCY_KEY_PATTERN } from './idempotency.js';

const notFoundFor = (code: 'P0200' | 'P0300' | 'P0500' | 'P1000') => () => paymentError(code);

/** The Idempotency-Key header, checked: 1–255 of [a-zA-Z0-9-], else 422 P0102 naming the header. */
export function idempotencyKeyOf(request: FastifyRequest): string | undefined {
  const key = request.headers['idempotency-key'];
  if (key === undefined) return undefined;
  if (typeof key !== 'string' || !IDEMPOTENCY_KEY_PATTERN.test(key)) {
    throw paymentError('P0102', ['Idempotency-Key', 'Must be 1 to 255 characters of letters, digits and hyphens'], { header: 'Idempotency-Key' });
  }
  return key;
}

/**
 * A route hook applying the account's rate limit for the bucket. Route hooks run after the
 * global authentication hook and before the body is read, as GOV.UK Pay's filter does.
 */
export function limited(ctx: AppContext, bucket: RateBucket) {
  return async (request: FastifyRequest): Promise<void> => {
    if (request.principal) await takeRequest(ctx, request.principal.accountId, bucket);
  };
}

export function paymentRoutes(app: HttpApp, ctx: AppContext): void {
  app.post(
    '/v1/payments',
    {
      onRequest: limited(ctx, 'create_payment'),
      config: { auth: { scope: 'payments:write' }, validationError: createPaymentValidationError },
      schema: {
        tags: ['payments'],
        summary: 'Create a payment',
        headers: z.object({ 'idempotency-key': z.string().optional() }),
        body: createPaymentBody,
        response: { 200: paymentResponse, 201: paymentResponse, '4xx': errorResponse },
      },
    },
    async (request, reply) => {
      const caller = principalOf(request);
      const key = idempotencyKeyOf(request);
      const created = await payments.createPayment(
        ctx,
        { accountId: caller.accountId, serviceId: caller.serviceId, mode: caller.mode },
        request.body as CreatePaymentInput,
        { idempotencyKey: key, rawBody: request.body },
      );
      reply.header('Pragma', 'no-cache');
      if (created.status === 201) reply.header('Location', created.payment._links.self.href);
      return reply.status(created.status).send(created.payment);
    },
  );

  app.get(
    '/v1/payments',
    {
      onRequest: limited(ctx, 'get'),
      config: { auth: { scope: 'payments:read' }, validationError: searchValidationError('P0401') },
      schema: { tags: ['payments'], summary: 'Search payments', querystring: paymentSearchQuery, response: { 200: paymentSearchResponse } },
    },
    async (request) => searchPaymentsForAccount(ctx, principalOf(request).accountId, request.query),
  );

  app.get(
    '/v1/payments/:paymentId',
    {
      onRequest: limited(ctx, 'get'),
      config: { auth: { scope: 'payments:read' }, validationError: notFoundFor('P0200') },
      schema: { tags: ['payments'], summary: 'Get a payment', params: paymentParams, response: { 200: paymentResponse } },
    },
    async (request, reply) => {
      reply.header('Pragma', 'no-cache');
      return payments.getPayment(ctx, principalOf(request).accountId, request.params.paymentId);
    },
  );

  app.get(
    '/v1/payments/:paymentId/events',
    {
      onRequest: limited(ctx, 'get'),
      config: { auth: { scope: 'payments:read' }, validationError: notFoundFor('P0300') },
      schema: { tags: ['payments'], summary: "A payment's state changes, oldest first", params: paymentParams, response: { 200: paymentEventsResponse } },
    },
    async (request) => payments.getPaymentEvents(ctx, principalOf(request).accountId, request.params.paymentId),
  );

  app.post(
    '/v1/payments/:paymentId/cancel',
    {
      onRequest: limited(ctx, 'post'),
      config: { auth: { scope: 'payments:write' }, validationError: notFoundFor('P0500') },
      schema: { tags: ['payments'], summary: 'Cancel an unfinished payment', params: paymentParams, response: { 204: z.null() } },
    },
    async (request, reply) => {
      await payments.cancelPayment(ctx, principalOf(request).accountId, request.params.paymentId, idempotencyKeyOf(request));
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/v1/payments/:paymentId/capture',
    {
      onRequest: limited(ctx, 'capture_payment'),
      config: { auth: { scope: 'payments:write' }, validationError: notFoundFor('P1000') },
      schema: { tags: ['payments'], summary: 'Capture a capturable (delayed capture) payment', params: paymentParams, response: { 204: z.null() } },
    },
    async (request, reply) => {
      await payments.capturePayment(ctx, principalOf(request).accountId, request.params.paymentId, idempotencyKeyOf(request));
      return reply.status(204).send(null);
    },
  );
}
