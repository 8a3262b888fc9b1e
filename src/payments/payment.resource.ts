// Renders a payment (and a refund) exactly as the GOV.UK Pay API returns it: fields absent when
// null, `_links` by state. The GET endpoint, search, create and the webhooks domain all render
// through here, so a payment looks the same wherever it appears.
import type { AppContext } from '../platform/context.js';
import { externalState, payerCanAct, refundability, type ExternalState, type PaymentState } from './payment.machine.js';
import { findPaymentByAccountAndId } from './payment.repo.js';
import type { PaymentRow, RefundRow } from './payment.tables.js';
import { openPersonal } from './personal-data.js';
import { findRefundByAccountAndId } from '../refunds/refund.repo.js';

export interface Link {
  href: string;
  method: string;
}
export interface PostLink extends Link {
  type?: string;
  params?: Record<string, string>;
}

export interface Address {
  line1?: string;
  line2?: string;
  postcode?: string;
  city?: string;
  country?: string;
}

export interface CardDetailsView {
  last_digits_card_number?: string;
  first_digits_card_number?: string;
  cardholder_name?: string;
  expiry_date?: string;
  billing_address?: Address;
  card_brand?: string;
  card_type?: string;
}

export interface RefundSummaryView {
  status: 'pending' | 'available' | 'full' | 'unavailable';
  amount_available: number;
  amount_submitted: number;
}

export interface PaymentView {
  amount: number;
  description: string;
  reference: string;
  language: 'en' | 'cy';
  email?: string;
  state: ExternalState;
  payment_id: string;
  payment_provider: string;
  provider_id?: string;
  return_url?: string;
  created_date: string;
  refund_summary: RefundSummaryView;
  settlement_summary: { capture_submit_time?: string; captured_date?: string };
  card_details?: CardDetailsView;
  card_brand?: string;
  delayed_capture: boolean;
  moto: boolean;
  metadata?: Record<string, string | number | boolean>;
  authorisation_summary?: { three_d_secure: { required: boolean } };
  agreement_id?: string;
  authorisation_mode: 'web' | 'moto_api' | 'agreement';
  agreement_payment_type?: string;
  _links: {
    self: Link;
    next_url?: Link;
    next_url_post?: PostLink;
    events: Link;
    refunds: Link;
    cancel?: PostLink;
    capture?: PostLink;
  };
}

const BRAND_LABELS: Record<string, string> = {
  'visa': 'Visa',
  'master-card': 'Mastercard',
  'american-express': 'American Express',
  'diners-club': 'Diners Club',
  'discover': 'Discover',
  'jcb': 'Jcb',
  'unionpay': 'Union Pay',
  'maestro': 'Maestro',
};

export const brandLabel = (brand: string): string => BRAND_LABELS[brand] ?? brand;

export function refundSummary(payment: Pick<PaymentRow, 'status' | 'amount' | 'refunded_amount'>): RefundSummaryView {
  const available = payment.amount - payment.refunded_amount;
  const base = refundability(payment.status as PaymentState);
  const status = base === 'captured' ? (available > 0 ? 'available' : 'full') : base;
  return { status, amount_available: available, amount_submitted: payment.refunded_amount };
}

export const paymentUrl = (ctx: Pick<AppContext, 'baseUrl'>, paymentId: string): string => `${ctx.baseUrl}/v1/payments/${paymentId}`;

/** Where the payer goes: GET with the token in the path, or POST it as a form field. */
export function payerLinks(ctx: Pick<AppContext, 'baseUrl'>, token: string): { next_url: Link; next_url_post: PostLink } {
  return {
    next_url: { href: `${ctx.baseUrl}/secure/${token}`, method: 'GET' },
    next_url_post: { type: 'application/x-www-form-urlencoded', params: { chargeTokenId: token }, href: `${ctx.baseUrl}/secure`, method: 'POST' },
  };
}

function decodeAddress(text: string | null): Address | undefined {
  if (text === null) return undefined;
  const parsed = JSON.parse(text) as Record<string, unknown>;
  const address: Address = {};
  for (const key of ['line1', 'line2', 'postcode', 'city', 'country'] as const) {
    const value = parsed[key];
    if (typeof value === 'string') address[key] = value;
  }
  return address;
}

function cardDetails(ctx: AppContext, payment: PaymentRow): CardDetailsView | undefined {
  if (payment.card_last_digits === null) return undefined;
  // GOV.UK Pay leaves out null members, card_type included.
  const view: CardDetailsView = { last_digits_card_number: payment.card_last_digits };
  if (payment.card_type !== null) view.card_type = payment.card_type;
  if (payment.card_first_digits !== null) view.first_digits_card_number = payment.card_first_digits;
  const name = openPersonal(ctx.masterKey.key, payment.id, 'cardholder_name', payment.cardholder_name_sealed);
  if (name !== null) view.cardholder_name = name;
  if (payment.card_expiry !== null) view.expiry_date = payment.card_expiry;
  const address = decodeAddress(openPersonal(ctx.masterKey.key, payment.id, 'billing_address', payment.billing_address_sealed));
  if (address) view.billing_address = address;
  if (payment.card_brand !== null) view.card_brand = brandLabel(payment.card_brand);
  return view;
}

/**
 * A payment as the API shows it. `payerToken`, when given, adds next_url and next_url_post
 * (only while the payer can still act); `searchLinks` leaves out what search results omit.
 */
/**
 * `email`: the payer's email in clear when the caller already holds it (a create, which has just
 * sealed it), so the view does not decrypt what was encrypted a moment ago.
 */
export function toPaymentView(ctx: AppContext, payment: PaymentRow, options: { payerToken?: string | undefined; email?: string | null | undefined } = {}): PaymentView {
  const state = payment.status as PaymentState;
  const external = externalState(state);
  const self = paymentUrl(ctx, payment.id);
  const view: PaymentView = {
    amount: payment.amount,
    description: payment.description,
    reference: payment.reference,
    language: payment.language,
    state: external,
    payment_id: payment.id,
    payment_provider: payment.payment_provider,
    created_date: payment.created_at.toISOString(),
    refund_summary: refundSummary(payment),
    settlement_summary: {},
    delayed_capture: payment.delayed_capture,
    moto: payment.moto,
    authorisation_mode: payment.authorisation_mode,
    _links: {
      self: { href: self, method: 'GET' },
      events: { href: `${self}/events`, method: 'GET' },
      refunds: { href: `${self}/refunds`, method: 'GET' },
    },
  };
  const email = options.email !== undefined ? options.email : openPersonal(ctx.masterKey.key, payment.id, 'email', payment.email_sealed);
  if (email !== null) view.email = email;
  if (payment.processor_reference !== null) view.provider_id = payment.processor_reference;
  if (payment.return_url !== null) view.return_url = payment.return_url;
  if (payment.capture_submitted_at !== null) view.settlement_summary.capture_submit_time = payment.capture_submitted_at.toISOString();
  if (payment.captured_at !== null) view.settlement_summary.captured_date = payment.captured_at.toISOString().slice(0, 10);
  const card = cardDetails(ctx, payment);
  if (card) {
    view.card_details = card;
    if (card.card_brand !== undefined) view.card_brand = card.card_brand;
  }
  if (payment.metadata !== null) view.metadata = payment.metadata;
  if (payment.three_ds_required !== null) view.authorisation_summary = { three_d_secure: { required: payment.three_ds_required } };
  if (payment.agreement_id !== null) view.agreement_id = payment.agreement_id;
  if (payment.agreement_payment_type !== null) view.agreement_payment_type = payment.agreement_payment_type;

  if (options.payerToken !== undefined && payment.authorisation_mode === 'web' && payerCanAct(state)) {
    Object.assign(view._links, payerLinks(ctx, options.payerToken));
  }
  if (!external.finished && payment.authorisation_mode !== 'agreement') view._links.cancel = { href: `${self}/cancel`, method: 'POST' };
  if (state === 'awaiting_capture_request') view._links.capture = { href: `${self}/capture`, method: 'POST' };
  return view;
}

export interface RefundView {
  refund_id: string;
  payment_id: string;
  amount: number;
  status: 'submitted' | 'success' | 'error';
  created_date: string;
  settlement_summary: { settled_date?: string };
  _links: { self: Link; payment: Link };
}

export function toRefundView(ctx: AppContext, refund: RefundRow): RefundView {
  const payment = paymentUrl(ctx, refund.payment_id);
  return {
    refund_id: refund.id,
    payment_id: refund.payment_id,
    amount: refund.amount,
    status: refund.status,
    created_date: refund.created_at.toISOString(),
    settlement_summary: {},
    _links: { self: { href: `${payment}/refunds/${refund.id}`, method: 'GET' }, payment: { href: payment, method: 'GET' } },
  };
}

/**
 * The payment exactly as GET /v1/payments/{id} shows it, minus the single-use payer links
 * (a webhook must not hand out a way into the payment pages). Undefined when the account has
 * no such payment.
 */
export async function renderPaymentResource(ctx: AppContext, accountId: string, paymentId: string): Promise<PaymentView | undefined> {
  const payment = await findPaymentByAccountAndId(ctx.db, accountId, paymentId);
  return payment ? toPaymentView(ctx, payment) : undefined;
}

/** The refund exactly as GET /v1/payments/{id}/refunds/{refundId} shows it. */
export async function renderRefundResource(ctx: AppContext, accountId: string, refundId: string): Promise<RefundView | undefined> {
  const refund = await findRefundByAccountAndId(ctx.db, accountId, refundId);
  return refund ? toRefundView(ctx, refund) : undefined;
}
