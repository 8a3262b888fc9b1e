// GET /v1/payments: every search parameter GOV.UK Pay accepts, validated together so one 422
// P0401 names all the bad ones. Email and cardholder name match through their blind indexes.
import type { AppContext } from '../platform/context.js';
import { PAYMENT_STATES, externalState, type ExternalStatus, type PaymentState } from './payment.machine.js';
import { paymentError } from './payment.errors.js';
import { searchPayments, type PaymentSearch } from './payment.repo.js';
import { toPaymentView, type PaymentView } from './payment.resource.js';
import { pageLinks, parseDateOnly, parseDateTime, parsePaging, pastTheEnd, type PageLinks } from './pagination.js';
import { blindIndex } from './personal-data.js';

export type PaymentSearchQuery = Partial<Record<
  | 'reference'
  | 'email'
  | 'state'
  | 'card_brand'
  | 'from_date'
  | 'to_date'
  | 'page'
  | 'display_size'
  | 'cardholder_name'
  | 'first_digits_card_number'
  | 'last_digits_card_number'
  | 'from_settled_date'
  | 'to_settled_date'
  | 'agreement_id',
  string | undefined
>>;

// The search validator refuses `capturable`, although the docs list it (§13).
const SEARCHABLE_STATES: ExternalStatus[] = ['created', 'started', 'submitted', 'success', 'failed', 'cancelled', 'error'];
const PARAM_ORDER = ['reference', 'email', 'state', 'card_brand', 'from_date', 'to_date', 'cardholder_name', 'first_digits_card_number', 'last_digits_card_number', 'from_settled_date', 'to_settled_date', 'agreement_id'] as const;

export interface PaymentSearchResults {
  total: number;
  count: number;
  page: number;
  results: PaymentView[];
  _links: PageLinks;
}

export async function searchPaymentsForAccount(ctx: AppContext, accountId: string, query: PaymentSearchQuery): Promise<PaymentSearchResults> {
  const bad: string[] = [];
  const search: PaymentSearch = { accountId };
  const maxLength = (name: keyof PaymentSearchQuery, max: number): string | undefined => {
    const value = query[name];
    if (value === undefined) return undefined;
    if (value.length > max) bad.push(name);
    return value;
  };
  search.reference = maxLength('reference', 255);
  const email = maxLength('email', 254);
  if (email !== undefined) search.emailIndex = blindIndex(ctx.masterKey.key, 'email', email) ?? undefined;
  const cardholder = maxLength('cardholder_name', 255);
  if (cardholder !== undefined) search.cardholderNameIndex = blindIndex(ctx.masterKey.key, 'cardholder_name', cardholder) ?? undefined;
  if (query.state !== undefined) {
    if (SEARCHABLE_STATES.includes(query.state as ExternalStatus)) {
      search.states = PAYMENT_STATES.filter((s: PaymentState) => externalState(s).status === query.state);
    } else bad.push('state');
  }
  search.cardBrand = maxLength('card_brand', 20);
  for (const [name, target] of [['from_date', 'fromDate'], ['to_date', 'toDate']] as const) {
    const value = query[name];
    if (value === undefined) continue;
    const date = parseDateTime(value);
    if (date) search[target] = date;
    else bad.push(name);
  }
  for (const [name, pattern, target] of [['first_digits_card_number', /^\d{6}$/, 'firstDigits'], ['last_digits_card_number', /^\d{4}$/, 'lastDigits']] as const) {
    const value = query[name];
    if (value === undefined) continue;
    if (pattern.test(value)) search[target] = value;
    else bad.push(name);
  }
  let settledFilter = false;
  for (const name of ['from_settled_date', 'to_settled_date'] as const) {
    const value = query[name];
    if (value === undefined) continue;
    if (parseDateOnly(value)) settledFilter = true;
    else bad.push(name);
  }
  search.agreementId = maxLength('agreement_id', 26);
  const paging = parsePaging(query, bad);
  if (bad.length > 0) throw paymentError('P0401', [bad.join(', ')]);

  // Settlement dates come only from Stripe; nothing here has settled, so such a filter matches nothing.
  if (settledFilter) search.states = [];
  const { total, rows } =
    search.states !== undefined && search.states.length === 0
      ? { total: 0, rows: [] }
      : await searchPayments(ctx.db, search, { offset: (paging.page - 1) * paging.displaySize, limit: paging.displaySize });
  if (pastTheEnd(paging, total)) throw paymentError('P0402');

  const params = PARAM_ORDER.flatMap((name): [string, string][] => (query[name] === undefined ? [] : [[name, query[name]]]));
  return {
    total,
    count: rows.length,
    page: paging.page,
    results: rows.map((row) => toPaymentView(ctx, row)),
    _links: pageLinks(`${ctx.baseUrl}/v1/payments`, params, paging, total),
  };
}
