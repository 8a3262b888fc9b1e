// What the transaction pages show, shaped from the API's own representation of a payment: rows
// for the list, the detail page's summary, card summary, refunds and timeline, and which actions
// the payment and the role allow. Every value is a defined string or number, as the views
// (which refuse undefined) expect; escaping is the views' autoescape.
import type { PaymentView, RefundView } from '../../payments/payment.resource.js';
import type { TimelineEntry } from '../../payments/payment.timeline.js';
import type { ServicePage } from './console.shell.js';
import { formatMinor, formatTime } from './transactions.forms.js';

const STATE_TAGS: Record<string, string> = { success: 'tag--green', failed: 'tag--red', cancelled: 'tag--red', error: 'tag--red' };
const tagClass = (status: string): string => STATE_TAGS[status] ?? '';
const REFUND_TAGS: Record<string, string> = { success: 'tag--green', error: 'tag--red' };

const EVENT_LABELS: Record<string, string> = {
  payment_created: 'Payment created',
  payment_started: 'Payer opened the payment page',
  authorisation_submitted: 'Card details submitted',
  authorisation_3ds_required: '3-D Secure check required',
  authorisation_3ds_submitted: '3-D Secure check submitted',
  authorisation_succeeded: 'Card authorised',
  authorisation_rejected: 'Card declined',
  authorisation_error: 'Authorisation failed at the payment provider',
  payment_succeeded: 'Payment confirmed, capture submitted',
  payment_capturable: 'Payment confirmed, waiting for capture',
  payment_captured: 'Payment captured',
  capture_failed: 'Capture failed',
  payment_cancelled: 'Cancelled by the service',
  payment_cancelled_by_user: 'Cancelled by the payer',
  payment_expired: 'Payment expired',
  processor_cancel_confirmed: 'Authorisation released at the payment provider',
  card_testing_limit_reached: 'Card attempt refused: too many attempts',
  refund_submitted: 'Refund submitted',
  refund_succeeded: 'Refund succeeded',
  refund_failed: 'Refund failed',
};

function timelineRows(entries: TimelineEntry[]) {
  return entries.map((entry) => ({
    at: formatTime(entry.at),
    iso: entry.at.toISOString(),
    label: EVENT_LABELS[entry.type] ?? entry.type,
    detail: entry.resource.type === 'refund' && entry.amount !== undefined ? `${formatMinor(entry.amount, 'GBP')} (refund ${entry.resource.id})` : '',
  }));
}

export function paymentRow(base: string, p: PaymentView) {
  return {
    id: p.payment_id,
    href: `${base}/transactions/${encodeURIComponent(p.payment_id)}`,
    created: formatTime(p.created_date),
    reference: p.reference,
    email: p.email ?? '',
    amount: p.amount,
    status: p.state.status,
    tag: tagClass(p.state.status),
    card: p.card_details ? `${p.card_details.card_brand ?? 'Card'} ending ${p.card_details.last_digits_card_number ?? ''}` : '',
  };
}

/** What a payment allows now, from its API representation (the same links the API offers). */
function actionsOf(page: ServicePage, payment: PaymentView) {
  return {
    refund: page.can('refunds:create') && payment.refund_summary.status === 'available',
    capture: page.can('payments:capture') && payment._links.capture !== undefined,
    cancel: page.can('payments:cancel') && payment._links.cancel !== undefined,
  };
}

export function detailData(page: ServicePage, payment: PaymentView, refunds: RefundView[], timeline: TimelineEntry[]) {
  const card = payment.card_details;
  // The card summary is what a member of staff needs to recognise a payer's card: brand, last
  // four, expiry and name. Never the first six digits or the billing address.
  const cardRows = card
    ? [
        { key: 'Card brand', value: card.card_brand ?? 'Unknown' },
        { key: 'Card number', value: `ending ${card.last_digits_card_number ?? ''}` },
        { key: 'Expiry date', value: card.expiry_date ?? '' },
        { key: 'Name on card', value: card.cardholder_name ?? '' },
      ]
    : null;
  const summary = [
    { key: 'Reference', value: payment.reference },
    { key: 'Description', value: payment.description },
    { key: 'Payment ID', value: payment.payment_id },
    { key: 'Created (UTC)', value: formatTime(payment.created_date) },
    { key: 'Email', value: payment.email ?? '' },
    { key: 'Provider ID', value: payment.provider_id ?? '' },
    { key: 'Capture', value: payment.delayed_capture ? 'Delayed (the service captures it)' : 'Immediate' },
    { key: 'Payment type', value: payment.moto ? 'MOTO (taken by phone or post)' : payment.authorisation_mode === 'web' ? 'Online' : payment.authorisation_mode },
  ];
  if (payment.settlement_summary.captured_date) summary.push({ key: 'Captured', value: payment.settlement_summary.captured_date });
  return {
    payment: { id: payment.payment_id, amount: payment.amount, status: payment.state.status, message: payment.state.message ?? '', code: payment.state.code ?? '', tag: tagClass(payment.state.status), reference: payment.reference },
    summary,
    metadata: Object.entries(payment.metadata ?? {}).map(([key, value]) => ({ key, value: String(value) })),
    cardRows,
    refundSummary: payment.refund_summary,
    refunds: refunds.map((r) => ({ id: r.refund_id, amount: r.amount, status: r.status, tag: REFUND_TAGS[r.status] ?? '', created: formatTime(r.created_date) })),
    timeline: timelineRows(timeline),
    actions: actionsOf(page, payment),
    detailHref: `${page.base}/transactions/${encodeURIComponent(payment.payment_id)}`,
  };
}
