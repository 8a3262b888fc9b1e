// Refund endpoints of the GOV.UK Pay-compatible API. Create answers 202 with the refund, as
// publicapi does (the spec's 200 is wrong, §13).
import { z } from 'zod';
import { principalOf } from '../http/auth.js';
import type { HttpApp } from '../http/types.js';
import type { AppContext } from '../platform/context.js';
import { paymentError } from '../payments/payment.errors.js';
import { bodyValidationError, errorResponse, pageLinks, paymentParams, searchValidationError } from '../payments/payment.schemas.js';
import * as refunds from './refund.service.js';
import { idempotencyKeyOf, limited } from '../payments/payment.routes.js';

const link = z.object({ href: z.string(), method: z.string() });
export const refundResponse = z.object({
  refund_id: z.string(),
  payment_id: z.string(),
  amount: z.number().int(),
  status: z.enum(['submitted', 'success', 'error']),
  created_date: z.string(),
  settlement_summary: z.object({ settled_date: z.string().optional() }),
  _links: z.object({ self: link, payment: link }),
});

const amount = (rule: 'amount' | 'available') =>
  z
    .number({ error: 'Must be a valid numeric format' })
    .int({ error: 'Must be a valid numeric format' })
    .min(rule === 'amount' ? 1 : 0, { error: `Must be greater than or equal to ${rule === 'amount' ? 1 : 0}` })
    .max(10_000_000, { error: 'Must be less than or equal to 10000000' });

const refundBody = z.object({ amount: amount('amount'), refund_amount_available: amount('available').optional() });
const refundParams = z.object({ paymentId: z.string().max(64), refundId: z.string().max(64) });
const q = z.string().optional();

export function refundRoutes(app: HttpApp, ctx: AppContext): void {
  app.post(
    '/v1/payments/:paymentId/refunds',
    {
      onRequest: limited(ctx, 'post'),
      config: { auth: { scope: 'refunds:write' }, validationError: bodyValidationError({ missing: 'P0601', invalid: 'P0602', unparseable: 'P0697' }) },
      schema: { tags: ['refunds'], summary: 'Refund a payment', params: paymentParams, body: refundBody, response: { 202: refundResponse, '4xx': errorResponse } },
    },
    async (request, reply) => {
      const caller = principalOf(request);
      const refund = await refunds.createRefund(
        ctx,
        { accountId: caller.accountId, serviceId: caller.serviceId, mode: caller.mode },
        request.params.paymentId,
        request.body,
        idempotencyKeyOf(request),
      );
      return reply.status(202).send(refund);
    },
  );

  app.get(
    '/v1/payments/:paymentId/refunds',
    {
      onRequest: limited(ctx, 'get'),
      config: { auth: { scope: 'refunds:read' }, validationError: () => paymentError('P0800') },
      schema: {
        tags: ['refunds'],
        summary: "A payment's refunds",
        params: paymentParams,
        response: { 200: z.object({ payment_id: z.string(), _links: z.object({ self: link, payment: link }), _embedded: z.object({ refunds: z.array(refundResponse) }) }) },
      },
    },
    async (request) => refunds.listRefunds(ctx, principalOf(request).accountId, request.params.paymentId),
  );

  app.get(
    '/v1/payments/:paymentId/refunds/:refundId',
    {
      onRequest: limited(ctx, 'get'),
      config: { auth: { scope: 'refunds:read' }, validationError: () => paymentError('P0700') },
      schema: { tags: ['refunds'], summary: 'Get a refund', params: refundParams, response: { 200: refundResponse } },
    },
    async (request) => refunds.getRefund(ctx, principalOf(request).accountId, request.params.paymentId, request.params.refundId),
  );

  app.get(
    '/v1/refunds',
    {
      onRequest: limited(ctx, 'get'),
      config: { auth: { scope: 'refunds:read' }, validationError: searchValidationError('P1101') },
      schema: {
        tags: ['refunds'],
        summary: 'Search refunds',
        querystring: z.object({ from_date: q, to_date: q, from_settled_date: q, to_settled_date: q, page: q, display_size: q }),
        response: { 200: z.object({ total: z.number().int(), count: z.number().int(), page: z.number().int(), results: z.array(refundResponse), _links: pageLinks }) },
      },
    },
    async (request) => refunds.searchRefundsForAccount(ctx, principalOf(request).accountId, request.query),
  );
}
