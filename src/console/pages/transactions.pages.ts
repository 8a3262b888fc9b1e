// Console pages for search, CSV export, detail with timeline, refund, capture and cancel. Registered by service-pages.ts; each page goes through
// servicePage() in console.shell.ts, which does the session, service, allow-list, role and
// step-up checks before the handler runs. The domain work is the payments API's own: search
// through payment.search.ts, refunds through refund.service.ts, capture and cancel through
// payment.service.ts, every lookup by the page's account (another service's payment is a 404).
// Buttons show only where the payment's state allows the action and the role holds it; the
// POST handlers check both again, since hiding a button is never the check.
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { z } from 'zod';
import type { HttpApp } from '../../http/types.js';
import { CofferError } from '../../platform/errors.js';
import { cancelPayment, capturePayment } from '../../payments/payment.service.js';
import { searchPaymentsForAccount, type PaymentSearchQuery } from '../../payments/payment.search.js';
import { renderPaymentResource, type PaymentView } from '../../payments/payment.resource.js';
import { paymentTimeline } from '../../payments/payment.timeline.js';
import { createRefund, listRefunds } from '../../refunds/refund.service.js';
import { PageError } from '../../web/web.plugin.js';
import type { ConsoleKit, FieldErrors } from './console.kit.js';
import { servicePage, type ServicePage } from './console.shell.js';
import { CSV_HEADER, csvRow, paymentCsvRow } from './transactions.csv.js';
import { detailData, paymentRow } from './transactions.view.js';
import {
  brandOptions,
  filterQueryString,
  formatMinor,
  formValues,
  PAGE_SIZE,
  pageNumber,
  parseAmount,
  SEARCH_STATES,
  searchForm,
  toApiQuery,
} from './transactions.forms.js';

const paymentParams = z.object({ paymentId: z.string().min(1).max(64) });
const detailQuery = z.object({ done: z.string().max(20).optional(), refund: z.string().max(64).optional() });
const refundBody = z.object({
  refund_type: z.string().max(20).optional(),
  amount: z.string().max(40).optional(),
  available: z.string().max(20).optional(),
  idempotency_key: z.string().max(64).optional(),
});
type RefundBody = z.infer<typeof refundBody>;

// Notices after a POST: chosen from this table by a fixed key, so nothing from the URL is echoed.
const NOTICES: Record<string, { text: string; warning: boolean }> = {
  captured: { text: 'The payment has been captured.', warning: false },
  cancelled: { text: 'The payment has been cancelled.', warning: false },
  'capture-refused': { text: 'The payment could not be captured: it is no longer waiting for capture.', warning: true },
  'cancel-refused': { text: 'The payment could not be cancelled: it has already finished, or is being authorised right now. Try again in a moment.', warning: true },
};

async function loadPayment(kit: ConsoleKit, page: ServicePage, paymentId: string): Promise<PaymentView> {
  const payment = await renderPaymentResource(kit.ctx, page.accountId, paymentId);
  if (!payment) throw new PageError('not_found', 404);
  return payment;
}

/** Every payment the search matches, newest first, a page of the API's largest size at a time. */
async function* exportCsv(kit: ConsoleKit, accountId: string, query: PaymentSearchQuery): AsyncGenerator<string> {
  yield `\uFEFF${csvRow(CSV_HEADER)}`; // the BOM tells spreadsheets the file is UTF-8
  // Payments created while the export runs would shift the pages under it: stop at its start.
  const startedAt = `${new Date(kit.ctx.clock.now().getTime() + 1000).toISOString().slice(0, 19)}Z`;
  const bounded = { ...query, to_date: query.to_date !== undefined && query.to_date < startedAt ? query.to_date : startedAt };
  for (let pageNo = 1; ; pageNo++) {
    let found;
    try {
      found = await searchPaymentsForAccount(kit.ctx, accountId, { ...bounded, page: String(pageNo), display_size: '500' });
    } catch (err) {
      // A state filter can match fewer payments as they move on mid-export: the file ends there.
      if (err instanceof CofferError && err.code === 'P0402') return;
      throw err;
    }
    for (const payment of found.results) yield paymentCsvRow(payment);
    if (pageNo * 500 >= found.total) return;
  }
}

function refundFormData(page: ServicePage, payment: PaymentView, body: RefundBody, errors: FieldErrors) {
  return {
    pageTitle: `Refund payment ${payment.reference}`,
    payment: { id: payment.payment_id, reference: payment.reference, description: payment.description, amount: payment.amount },
    available: payment.refund_summary.amount_available,
    submitted: payment.refund_summary.amount_submitted,
    // Neither choice is made for the person: money leaves on this form.
    form: { refund_type: body.refund_type === 'partial' || body.refund_type === 'full' ? body.refund_type : '', amount: body.amount ?? '' },
    idempotencyKey: randomBytes(16).toString('hex'),
    errors,
    detailHref: `${page.base}/transactions/${encodeURIComponent(payment.payment_id)}`,
    actionHref: `${page.base}/transactions/${encodeURIComponent(payment.payment_id)}/refund`,
  };
}

/** Refusals from the refund service that the person can act on, as field messages. */
function refundRefusal(err: CofferError, available: number): FieldErrors | undefined {
  if (err.code === 'P0604') return { amount: 'Someone else refunded part of this payment while you were on this page. Check the amount available and try again.' };
  if (err.code === 'P0603' && err.message.endsWith('amount_not_available')) return { amount: `The amount to refund cannot be more than the ${formatMinor(available, 'GBP')} available` };
  if (err.code === 'P0603') return { refund_type: 'This payment cannot be refunded now.' };
  if (err.code === 'P0941') return { refund_type: 'Payments and refunds are turned off for this account.' };
  if (err.code === 'P0191') return { refund_type: 'This form has already been used. Check the refunds on the payment before trying again.' };
  return undefined;
}

export function registerTransactionPages(app: HttpApp, kit: ConsoleKit): void {
  servicePage(app, kit, { method: 'GET', path: '/transactions', permission: 'transactions:view', query: searchForm }, async ({ query: form, page, reply }) => {
    const { query, errors } = toApiQuery(form);
    const failed = Object.keys(errors).length > 0;
    const pageNo = pageNumber(form);
    let found = { total: 0, results: [] as PaymentView[] };
    if (!failed) {
      try {
        found = await searchPaymentsForAccount(kit.ctx, page.accountId, { ...query, page: String(pageNo), display_size: String(PAGE_SIZE) });
      } catch (err) {
        // Past the last page (the results shrank, or a hand-edited link): start again at the first.
        if (err instanceof CofferError && err.code === 'P0402') return reply.redirect(`${page.base}/transactions${filterQueryString(form)}`, 303);
        throw err;
      }
    }
    const lastPage = Math.max(1, Math.ceil(found.total / PAGE_SIZE));
    return page.render(
      'transactions.njk',
      {
        pageTitle: failed ? 'Error: Transactions' : 'Transactions',
        form: formValues(form),
        errors,
        states: SEARCH_STATES,
        brands: brandOptions(),
        rows: found.results.map((p) => paymentRow(page.base, p)),
        total: found.total,
        pageNo,
        lastPage,
        filtered: filterQueryString(form) !== '',
        exportHref: page.can('transactions:export') ? `${page.base}/transactions.csv${filterQueryString(form)}` : null,
        prevHref: pageNo > 1 ? `${page.base}/transactions${filterQueryString(form, { page: String(pageNo - 1) })}` : null,
        nextHref: pageNo < lastPage ? `${page.base}/transactions${filterQueryString(form, { page: String(pageNo + 1) })}` : null,
      },
      { status: failed ? 400 : 200 },
    );
  });

  servicePage(app, kit, { method: 'GET', path: '/transactions.csv', permission: 'transactions:export', query: searchForm }, async ({ query: form, page, reply }) => {
    const { query, errors } = toApiQuery(form);
    if (Object.keys(errors).length > 0) return reply.redirect(`${page.base}/transactions${filterQueryString(form)}`, 303);
    const day = kit.ctx.clock.now().toISOString().slice(0, 10);
    return reply
      .header('content-type', 'text/csv; charset=utf-8')
      .header('content-disposition', `attachment; filename="transactions-${page.service.id}-${page.mode}-${day}.csv"`)
      .header('cache-control', 'no-store')
      .header('x-content-type-options', 'nosniff')
      .send(Readable.from(exportCsv(kit, page.accountId, query)));
  });

  servicePage(
    app,
    kit,
    { method: 'GET', path: '/transactions/:paymentId', permission: 'transactions:view', params: paymentParams, query: detailQuery },
    async ({ params, query, page }) => {
      const payment = await loadPayment(kit, page, params.paymentId);
      const refunds = (await listRefunds(kit.ctx, page.accountId, payment.payment_id))._embedded.refunds;
      const timeline = (await paymentTimeline(kit.ctx, page.accountId, payment.payment_id)) ?? [];
      const data = detailData(page, payment, refunds, timeline);
      let notice: { text: string; warning: boolean } | null = NOTICES[query.done ?? ''] ?? null;
      if (query.done === 'refunded') {
        const refund = refunds.find((r) => r.refund_id === query.refund);
        if (refund) notice = { text: `A refund of ${formatMinor(refund.amount, 'GBP')} has been ${refund.status === 'error' ? 'refused by the payment provider' : 'submitted'}.`, warning: refund.status === 'error' };
      }
      return page.render('transactions-detail.njk', { pageTitle: `Payment ${payment.reference}`, notice, ...data });
    },
  );

  // The form of a step-up action asks for the same permission, so the second factor is
  // confirmed before the form is shown, and the POST below finds it fresh.
  servicePage(
    app,
    kit,
    { method: 'GET', path: '/transactions/:paymentId/refund', permission: 'refunds:create', params: paymentParams },
    async ({ params, page, reply }) => {
      const payment = await loadPayment(kit, page, params.paymentId);
      if (payment.refund_summary.status !== 'available') return reply.redirect(`${page.base}/transactions/${encodeURIComponent(payment.payment_id)}`, 303);
      return page.render('transactions-refund.njk', refundFormData(page, payment, {}, {}));
    },
  );

  servicePage(
    app,
    kit,
    { method: 'POST', path: '/transactions/:paymentId/refund', permission: 'refunds:create', params: paymentParams, body: refundBody, stepUpReturn: '/transactions/:paymentId/refund' },
    async ({ params, body, page, reply }) => {
      const payment = await loadPayment(kit, page, params.paymentId);
      const available = payment.refund_summary.amount_available;
      const shown = body.available !== undefined && /^\d{1,12}$/.test(body.available) ? Number(body.available) : available;
      const again = (errors: FieldErrors) => page.render('transactions-refund.njk', { ...refundFormData(page, payment, body, errors), pageTitle: `Error: Refund payment ${payment.reference}` }, { status: 422 });
      let amount: number;
      if (body.refund_type === 'partial') {
        const parsed = parseAmount(body.amount, available, 'GBP');
        if (!parsed.ok) return again({ amount: parsed.error });
        amount = parsed.amount;
      } else if (body.refund_type === 'full') {
        // Without script the amount field is always there: an amount typed next to "full" is a
        // contradiction to ask about, not a detail to ignore.
        const typed = (body.amount ?? '').trim();
        if (typed !== '') {
          const parsed = parseAmount(typed, Number.MAX_SAFE_INTEGER, 'GBP');
          if (!parsed.ok || parsed.amount !== shown) return again({ refund_type: 'You chose a full refund but entered an amount: choose a partial refund, or clear the amount' });
        }
        amount = shown;
      } else {
        return again({ refund_type: 'Choose a full or a partial refund' });
      }
      if (amount <= 0) return again({ refund_type: 'There is nothing left to refund on this payment.' });
      const key = body.idempotency_key !== undefined && /^[a-f0-9]{32}$/.test(body.idempotency_key) ? `console-${body.idempotency_key}` : undefined;
      try {
        // refund_amount_available is what the person saw: a refund someone else made meanwhile
        // refuses this one (P0604) instead of silently refunding against a different balance.
        const refund = await createRefund(kit.ctx, { accountId: page.accountId, serviceId: page.service.id, mode: page.mode }, payment.payment_id, { amount, refund_amount_available: shown }, key);
        return reply.redirect(`${page.base}/transactions/${encodeURIComponent(payment.payment_id)}?done=refunded&refund=${encodeURIComponent(refund.refund_id)}`, 303);
      } catch (err) {
        const errors = err instanceof CofferError ? refundRefusal(err, available) : undefined;
        if (errors) return again(errors);
        throw err;
      }
    },
  );

  for (const action of ['capture', 'cancel'] as const) {
    servicePage(
      app,
      kit,
      { method: 'POST', path: `/transactions/:paymentId/${action}`, permission: action === 'capture' ? 'payments:capture' : 'payments:cancel', params: paymentParams },
      async ({ params, page, reply }) => {
        const payment = await loadPayment(kit, page, params.paymentId);
        const detail = `${page.base}/transactions/${encodeURIComponent(payment.payment_id)}`;
        try {
          if (action === 'capture') await capturePayment(kit.ctx, page.accountId, payment.payment_id);
          else await cancelPayment(kit.ctx, page.accountId, payment.payment_id);
        } catch (err) {
          // The payment moved on (or never allowed it): say so on its page rather than a bare 409.
          if (err instanceof CofferError && err.status !== 404 && err.status < 500) return reply.redirect(`${detail}?done=${action}-refused`, 303);
          throw err;
        }
        return reply.redirect(`${detail}?done=${action === 'capture' ? 'captured' : 'cancelled'}`, 303);
      },
    );
  }
}
