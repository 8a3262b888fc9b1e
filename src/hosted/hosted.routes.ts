// The payment pages: token exchange, card details, 3-D Secure, confirm, cancel and the outcome
// pages. Every page after the token exchange needs the browser session the payment was bound
// to; every action first asks the guard whether the payment's state accepts it, and otherwise
// sends the payer to the page for the state it is really in. Handlers are thin: validation is
// in card-form.ts, state changes in the payments service. The card number and CVC go from the
// form body straight into the authorisation call and are never rendered back, logged or stored.
import { z } from 'zod';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { HttpApp } from '../http/types.js';
import type { AppContext } from '../platform/context.js';
import { constantTimeEqual } from '../platform/hashing.js';
import {
  authorisePayment,
  cancelByPayer,
  completeThreeDs,
  confirmPayment,
  getPaymentForPayer,
  redeemPayerToken,
  startPayerJourney,
  type PayerPaymentView,
} from '../payments/payer-journey.service.js';
import type { PaymentState } from '../payments/payment.machine.js';
import { BRAND_LABELS } from '../connectors/card-brand.js';
import { csrfToken, PageError } from '../web/web.plugin.js';
import { startSession, type SessionConfig } from '../web/session.js';
import { originOf } from '../web/csp.js';
import { countries } from '../web/countries.js';
import { translator, type Catalogues } from '../web/i18n.js';
import type { PageRenderer, PageRequest } from '../web/views.js';
import { bindPayment, findBinding } from './hosted.repo.js';
import { getPageSettings } from './hosted.settings.js';
import { CARD_FIELDS, containsCardNumber, validateCardForm, type CardField, type FieldError } from './card-form.js';
import { accepts, outcomeFor, pageFor, type Page, type PageAction } from './journey.guard.js';
import { attemptKeys, checkAttempt, recordAttempt } from './card-testing.js';
import type { AttemptOutcome } from './hosted.tables.js';

export const PAYER_SESSION: SessionConfig = {
  cookieName: 'coffer_payer',
  purpose: 'payer',
  // Longer than a payment can stay open (90 minutes), so the session never ends mid-payment.
  idleTimeoutMs: 2 * 60 * 60_000,
  sameSite: 'strict',
};

const PAYMENT_ID = z.string().regex(/^[0-9a-v]{26}$/);
const paymentParams = z.object({ paymentId: PAYMENT_ID });
const formText = z.string().max(500).optional();
// The token is optional to the schema so that a missing one is a CSRF refusal, not a bad request.
const CSRF = z.string().max(200).optional();
const csrfOnly = z.object({ csrf_token: CSRF });
const cardBody = z.object({
  csrf_token: CSRF,
  ...Object.fromEntries(CARD_FIELDS.map((f) => [f, formText])),
}) as z.ZodType<{ csrf_token?: string } & Partial<Record<CardField, string>>>;
const threeDsBody = z.object({ csrf_token: CSRF, otp: z.string().max(100).optional() });

export const paths = (paymentId: string) => ({
  card: `/card_details/${paymentId}`,
  threeDs: `/card_details/${paymentId}/3ds_required`,
  confirm: `/card_details/${paymentId}/confirm`,
  cancel: `/card_details/${paymentId}/cancel`,
  waiting: `/card_details/${paymentId}/auth_waiting`,
  outcome: `/card_details/${paymentId}/outcome`,
});

function pathFor(paymentId: string, page: Page): string {
  const p = paths(paymentId);
  switch (page) {
    case 'card':
      return p.card;
    case 'three_ds':
      return p.threeDs;
    case 'confirm':
      return p.confirm;
    case 'waiting':
      return p.waiting;
    case 'outcome':
      return p.outcome;
  }
}

/** Free text that holds a card number, or nothing but a security code's digits, is not echoed. */
const mayEcho = (field: CardField, value: string): boolean =>
  !containsCardNumber(value) && (field === 'expiryMonth' || field === 'expiryYear' || !/^\s*\d{3,4}\s*$/.test(value));

export function hostedRoutes(app: HttpApp, ctx: AppContext, renderer: PageRenderer, catalogues: Catalogues): void {
  const page = { config: { auth: 'public' as const } };

  /** The payment bound to this browser's session, or a refusal page. */
  async function boundPayment(request: FastifyRequest, paymentId: string): Promise<PayerPaymentView> {
    const session = request.webSession;
    if (!session) throw new PageError('session_expired', 403);
    const binding = await findBinding(ctx.db, paymentId);
    if (!binding || !constantTimeEqual(binding.session_id_hash, session.idHash)) throw new PageError('session_expired', 403);
    const view = await getPaymentForPayer(ctx, paymentId);
    if (!view) throw new PageError('not_found', 404);
    request.pageLang = view.language;
    return view;
  }

  const goTo = (reply: FastifyReply, paymentId: string, state: PaymentState): FastifyReply => reply.redirect(pathFor(paymentId, pageFor(state)), 303);

  /** Sends the payer to the right page when this action does not fit the payment's state. */
  function misplaced(reply: FastifyReply, view: PayerPaymentView, action: PageAction): FastifyReply | undefined {
    return accepts(action, view.status) ? undefined : goTo(reply, view.paymentId, view.status);
  }

  function common(request: FastifyRequest, view: PayerPaymentView): Record<string, unknown> {
    return {
      payment: view,
      serviceName: view.serviceName,
      testMode: view.mode === 'test',
      errorList: [],
      errors: {},
      csrfToken: csrfToken(ctx, request),
      paths: paths(view.paymentId),
    };
  }

  /** Pages whose forms can end at the service (cancel, confirm) may post-redirect to its origin. */
  const toService = (view: PayerPaymentView): Pick<PageRequest, 'formActionOrigins'> => {
    const origin = originOf(view.returnUrl);
    return origin ? { formActionOrigins: [origin] } : {};
  };

  const finish = (reply: FastifyReply, view: PayerPaymentView): FastifyReply =>
    view.returnUrl ? reply.redirect(view.returnUrl, 303) : reply.redirect(paths(view.paymentId).outcome, 303);

  // ---- token exchange: GET next_url, or POST next_url_post

  async function exchange(request: FastifyRequest, reply: FastifyReply, token: string): Promise<FastifyReply> {
    // A browser coming from the service's site does not send our Strict cookie. Using the token
    // now would start a second session beside the one it may already have; send it on from our
    // own origin first, and use the token on that request.
    const site = request.headers['sec-fetch-site'];
    if (!request.webSession && (site === 'cross-site' || site === 'same-site')) {
      return renderer.send(reply, {
        view: 'continue.njk',
        lang: 'en',
        data: { continueUrl: `/secure/${encodeURIComponent(token)}`, serviceName: null, testMode: false, errorList: [] },
      });
    }
    const redeemed = await redeemPayerToken(ctx, token);
    if (!redeemed) return linkPage(reply, 'invalid', 404);
    if (redeemed.firstUse) {
      const session = request.webSession ?? (await startSession(ctx, reply, PAYER_SESSION));
      await bindPayment(ctx.db, redeemed.paymentId, session.idHash, ctx.clock.now());
    } else {
      const binding = await findBinding(ctx.db, redeemed.paymentId);
      const sameBrowser = binding !== undefined && request.webSession !== undefined && constantTimeEqual(binding.session_id_hash, request.webSession.idHash);
      if (!sameBrowser) {
        const view = await getPaymentForPayer(ctx, redeemed.paymentId);
        return linkPage(reply, 'used', 403, view);
      }
    }
    const view = await getPaymentForPayer(ctx, redeemed.paymentId);
    if (!view) return linkPage(reply, 'invalid', 404);
    return goTo(reply, view.paymentId, view.status);
  }

  function linkPage(reply: FastifyReply, kind: 'used' | 'invalid', status: number, view?: PayerPaymentView): FastifyReply {
    return renderer.send(reply, {
      view: 'link.njk',
      lang: view?.language ?? 'en',
      status,
      data: { kind, serviceName: view?.serviceName ?? null, testMode: false, errorList: [] },
    });
  }

  app.get('/secure/:token', { ...page, schema: { params: z.object({ token: z.string().max(200) }) } }, async (request, reply) =>
    exchange(request, reply, request.params.token),
  );

  app.post(
    '/secure',
    { config: { auth: 'public', csrf: 'entry' }, schema: { body: z.object({ chargeTokenId: z.string().max(200) }) } },
    async (request, reply) => exchange(request, reply, request.body.chargeTokenId),
  );

  // ---- card details

  app.get('/card_details/:paymentId', { ...page, schema: { params: paymentParams } }, async (request, reply) => {
    let view = await boundPayment(request, request.params.paymentId);
    const elsewhere = misplaced(reply, view, 'show_card');
    if (elsewhere) return elsewhere;
    if (view.status === 'created') {
      const started = await startPayerJourney(ctx, view.paymentId);
      if (started.outcome === 'not_found') throw new PageError('not_found', 404);
      if (started.outcome !== 'started') return goTo(reply, view.paymentId, started.status);
      view = { ...view, status: started.status };
    }
    const prefilled = view.prefilledBillingAddress;
    return renderCardPage(request, reply, view, 200, [], {
      cardholderName: view.prefilledCardholderName ?? '',
      addressLine1: prefilled?.line1 ?? '',
      addressLine2: prefilled?.line2 ?? '',
      addressCity: prefilled?.city ?? '',
      addressPostcode: prefilled?.postcode ?? '',
      addressCountry: prefilled?.country ?? 'GB',
      email: view.email ?? '',
    });
  });

  async function renderCardPage(
    request: FastifyRequest,
    reply: FastifyReply,
    view: PayerPaymentView,
    status: number,
    fieldErrors: FieldError[],
    values: Partial<Record<CardField, string>>,
  ): Promise<FastifyReply> {
    const settings = await getPageSettings(ctx, view.accountId);
    const t = translator(catalogues, view.language);
    const errors: Partial<Record<CardField, string>> = {};
    for (const error of fieldErrors) errors[error.field] ??= t(error.message, error.params);
    const errorList = Object.entries(errors).map(([field, text]) => ({ field, text }));
    return renderer.send(reply, {
      view: 'card_details.njk',
      lang: view.language,
      status,
      scripts: ['hosted/card-brand.js'],
      ...toService(view),
      data: {
        ...common(request, view),
        errors,
        errorList,
        // The card number and CVC are never echoed back into the page, nor any other field a
        // payer typed a card number or a security code into.
        values: {
          ...Object.fromEntries(CARD_FIELDS.map((f) => [f, mayEcho(f, values[f] ?? '') ? (values[f] ?? '') : ''])),
          cardNo: '',
          cvc: '',
        },
        settings,
        acceptedBrands: settings.acceptedBrands,
        acceptedBrandLabels: settings.acceptedBrands.map((b) => BRAND_LABELS[b]).join(', '),
        countries: countries(view.language),
      },
    });
  }

  app.post('/card_details/:paymentId', { ...page, schema: { params: paymentParams, body: cardBody } }, async (request, reply) => {
    const view = await boundPayment(request, request.params.paymentId);
    const elsewhere = misplaced(reply, view, 'submit_card');
    if (elsewhere) return elsewhere;
    const settings = await getPageSettings(ctx, view.accountId);
    const raw: Partial<Record<CardField, string>> = {};
    for (const field of CARD_FIELDS) raw[field] = request.body[field];
    const checked = validateCardForm({
      raw,
      settings,
      now: ctx.clock.now(),
      mode: view.mode,
      processorAccepts: (digits) => ctx.cardProcessor.acceptsCard?.(digits, view.mode) ?? true,
    });
    if (!checked.ok) return renderCardPage(request, reply, view, 400, checked.errors, raw);
    const card = checked.values;

    const attempt = attemptKeys(ctx, view, request.ip, card.cardNumber);
    if (await checkAttempt(ctx, attempt)) {
      return renderer.send(reply, {
        view: 'error.njk',
        lang: view.language,
        status: 429,
        data: { kind: 'too_many', status: 429, requestId: request.id },
      });
    }

    const result = await authorisePayment(ctx, view.paymentId, {
      card: { number: card.cardNumber, expiryMonth: card.expiryMonth, expiryYear: card.expiryYear, cvc: card.cvc, cardholderName: card.cardholderName },
      email: card.email,
      billingAddress: card.address,
    });
    const recorded: Record<typeof result.outcome, AttemptOutcome | undefined> = {
      authorised: 'authorised',
      requires_3ds: 'requires_3ds',
      rejected: 'declined',
      error: 'error',
      not_allowed_in_state: undefined,
      not_found: undefined,
    };
    const outcome = recorded[result.outcome];
    if (outcome) await recordAttempt(ctx, attempt, outcome);
    return afterAuthorisation(reply, view, result.outcome);
  });

  function afterAuthorisation(reply: FastifyReply, view: PayerPaymentView, outcome: string): Promise<FastifyReply> | FastifyReply {
    const p = paths(view.paymentId);
    switch (outcome) {
      case 'authorised':
        return reply.redirect(p.confirm, 303);
      case 'requires_3ds':
        return reply.redirect(p.threeDs, 303);
      case 'rejected':
      case 'error':
        return reply.redirect(p.outcome, 303);
      default:
        // Another tab or a double submit moved the payment first: show where it is now.
        return reply.redirect(p.card, 303);
    }
  }

  // ---- 3-D Secure (the sandbox's simulated issuer page)

  app.get('/card_details/:paymentId/3ds_required', { ...page, schema: { params: paymentParams } }, async (request, reply) => {
    const view = await boundPayment(request, request.params.paymentId);
    return misplaced(reply, view, 'show_3ds') ?? renderThreeDs(request, reply, view, 200, undefined);
  });

  function renderThreeDs(request: FastifyRequest, reply: FastifyReply, view: PayerPaymentView, status: number, error: string | undefined): FastifyReply {
    const testHint = view.mode === 'test' ? ctx.cardProcessor.testChallengeHint?.() : undefined;
    const errors = error ? { otp: error } : {};
    return renderer.send(reply, {
      view: 'three_ds.njk',
      lang: view.language,
      status,
      ...toService(view),
      data: { ...common(request, view), errors, errorList: error ? [{ field: 'otp', text: error }] : [], testHint: testHint ?? null },
    });
  }

  app.post('/card_details/:paymentId/3ds_required', { ...page, schema: { params: paymentParams, body: threeDsBody } }, async (request, reply) => {
    const view = await boundPayment(request, request.params.paymentId);
    const elsewhere = misplaced(reply, view, 'submit_3ds');
    if (elsewhere) return elsewhere;
    const t = translator(catalogues, view.language);
    const answer = (request.body.otp ?? '').replace(/\s+/g, '');
    if (answer === '') return renderThreeDs(request, reply, view, 400, t('threeds.errors.missing'));
    if (!/^\d{6}$/.test(answer)) return renderThreeDs(request, reply, view, 400, t('threeds.errors.format'));
    const result = await completeThreeDs(ctx, view.paymentId, answer);
    return afterAuthorisation(reply, view, result.outcome);
  });

  // ---- confirm

  app.get('/card_details/:paymentId/confirm', { ...page, schema: { params: paymentParams } }, async (request, reply) => {
    const view = await boundPayment(request, request.params.paymentId);
    const elsewhere = misplaced(reply, view, 'show_confirm');
    if (elsewhere) return elsewhere;
    const a = view.card?.billingAddress;
    const countryName = a?.country ? (countries(view.language).find((c) => c.code === a.country)?.name ?? a.country) : undefined;
    const address = a ? [a.line1, a.line2, a.city, a.postcode, countryName].filter((l): l is string => Boolean(l)) : null;
    return renderer.send(reply, {
      view: 'confirm.njk',
      lang: view.language,
      ...toService(view),
      data: { ...common(request, view), address },
    });
  });

  app.post('/card_details/:paymentId/confirm', { ...page, schema: { params: paymentParams, body: csrfOnly } }, async (request, reply) => {
    const view = await boundPayment(request, request.params.paymentId);
    const elsewhere = misplaced(reply, view, 'submit_confirm');
    if (elsewhere) return elsewhere;
    const result = await confirmPayment(ctx, view.paymentId);
    if (result.outcome === 'success' || result.outcome === 'capturable') return finish(reply, view);
    if (result.outcome === 'error') return reply.redirect(paths(view.paymentId).outcome, 303);
    return reply.redirect(paths(view.paymentId).card, 303);
  });

  // ---- cancel

  app.post('/card_details/:paymentId/cancel', { ...page, schema: { params: paymentParams, body: csrfOnly } }, async (request, reply) => {
    const view = await boundPayment(request, request.params.paymentId);
    const elsewhere = misplaced(reply, view, 'cancel');
    if (elsewhere) return elsewhere;
    const result = await cancelByPayer(ctx, view.paymentId);
    if (result.outcome === 'cancelled') return finish(reply, view);
    return reply.redirect(paths(view.paymentId).card, 303);
  });

  // ---- waiting and outcome pages

  app.get('/card_details/:paymentId/auth_waiting', { ...page, schema: { params: paymentParams } }, async (request, reply) => {
    const view = await boundPayment(request, request.params.paymentId);
    return misplaced(reply, view, 'show_waiting') ?? renderer.send(reply, { view: 'waiting.njk', lang: view.language, data: common(request, view) });
  });

  app.get('/card_details/:paymentId/outcome', { ...page, schema: { params: paymentParams } }, async (request, reply) => {
    const view = await boundPayment(request, request.params.paymentId);
    return (
      misplaced(reply, view, 'show_outcome') ??
      renderer.send(reply, {
        view: 'outcome.njk',
        lang: view.language,
        data: { ...common(request, view), outcome: outcomeFor(view.status), returnUrl: view.returnUrl },
      })
    );
  });
}
