// The transaction pages' form handling, apart from the routes: the search form as the payments
// API's search parameters (the console filters exactly as the API can, no more), and the refund
// amount typed in pounds and pence as integer minor units, parsed as text so no float rounds it.
import { z } from 'zod';
import type { PaymentSearchQuery } from '../../payments/payment.search.js';
import { brandLabel } from '../../payments/payment.resource.js';
import type { FieldErrors } from './console.kit.js';

/** Display size of one page of results in the console (the API allows up to 500). */
export const PAGE_SIZE = 20;

// The states the API's search accepts (it refuses `capturable`, as GOV.UK Pay's does).
export const SEARCH_STATES = ['created', 'started', 'submitted', 'success', 'failed', 'cancelled', 'error'] as const;
export const CARD_BRANDS = ['visa', 'master-card', 'american-express', 'diners-club', 'discover', 'jcb', 'unionpay', 'maestro'] as const;

// Lenient on purpose: a mistyped filter is shown back with a message, not answered with a 400.
export const searchForm = z.object({
  reference: z.string().max(300).optional(),
  email: z.string().max(300).optional(),
  state: z.string().max(20).optional(),
  card_brand: z.string().max(30).optional(),
  from_date: z.string().max(40).optional(),
  to_date: z.string().max(40).optional(),
  cardholder_name: z.string().max(300).optional(),
  first_digits_card_number: z.string().max(20).optional(),
  last_digits_card_number: z.string().max(20).optional(),
  page: z.string().max(12).optional(),
});
export type SearchForm = z.infer<typeof searchForm>;
const FILTERS = ['reference', 'email', 'state', 'card_brand', 'from_date', 'to_date', 'cardholder_name', 'first_digits_card_number', 'last_digits_card_number'] as const;

const blank = (value: string | undefined): string | undefined => (value === undefined || value.trim() === '' ? undefined : value.trim());

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
// eslint-disable-next-line security/detect-unsafe-regex -- fixed-width parts, no nested repetition: linear
const LOCAL_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?Z?$/;

/**
 * A date (what a date input sends) or date and time, in UTC, as the API's `YYYY-MM-DDTHH:MM:SSZ`.
 * A `to` date alone means up to the end of that day, so the day itself is included.
 */
function apiTime(text: string, end: boolean): string | undefined {
  let at: Date;
  if (DATE_ONLY.test(text)) at = new Date(`${text}T00:00:00Z`);
  else if (LOCAL_TIME.test(text)) at = new Date(`${text.replace(/Z$/, '').padEnd(19, ':00').slice(0, 19)}Z`);
  else return undefined;
  if (Number.isNaN(at.getTime()) || at.toISOString().slice(0, 10) !== text.slice(0, 10)) return undefined;
  if (end && DATE_ONLY.test(text)) at = new Date(at.getTime() + 86_400_000);
  return `${at.toISOString().slice(0, 19)}Z`;
}

/** The form's filters as the API's search parameters, or what is wrong with them (per field). */
export function toApiQuery(form: SearchForm): { query: PaymentSearchQuery; errors: FieldErrors } {
  const errors: FieldErrors = {};
  const query: PaymentSearchQuery = {};
  const reference = blank(form.reference);
  if (reference !== undefined) {
    if (reference.length > 255) errors.reference = 'Reference must be 255 characters or fewer';
    else query.reference = reference;
  }
  const email = blank(form.email);
  if (email !== undefined) {
    if (email.length > 254) errors.email = 'Email must be 254 characters or fewer';
    else query.email = email;
  }
  const state = blank(form.state);
  if (state !== undefined) {
    if ((SEARCH_STATES as readonly string[]).includes(state)) query.state = state;
    else errors.state = 'Choose a state from the list';
  }
  const brand = blank(form.card_brand);
  if (brand !== undefined) {
    if ((CARD_BRANDS as readonly string[]).includes(brand)) query.card_brand = brand;
    else errors.card_brand = 'Choose a card brand from the list';
  }
  const name = blank(form.cardholder_name);
  if (name !== undefined) {
    if (name.length > 255) errors.cardholder_name = 'Name on card must be 255 characters or fewer';
    else query.cardholder_name = name;
  }
  const first = blank(form.first_digits_card_number);
  if (first !== undefined) {
    if (/^\d{6}$/.test(first)) query.first_digits_card_number = first;
    else errors.first_digits_card_number = 'Enter the first 6 digits of the card number, like 424242';
  }
  const last = blank(form.last_digits_card_number);
  if (last !== undefined) {
    if (/^\d{4}$/.test(last)) query.last_digits_card_number = last;
    else errors.last_digits_card_number = 'Enter the last 4 digits of the card number, like 4242';
  }
  const fromText = blank(form.from_date);
  const toText = blank(form.to_date);
  const from = fromText === undefined ? undefined : apiTime(fromText, false);
  const to = toText === undefined ? undefined : apiTime(toText, true);
  if (fromText !== undefined && from === undefined) errors.from_date = 'Enter a date like 2026-11-25, or a date and time like 2026-11-25T09:30 (UTC)';
  if (toText !== undefined && to === undefined) errors.to_date = 'Enter a date like 2026-11-25, or a date and time like 2026-11-25T17:00 (UTC)';
  if (from !== undefined && to !== undefined && from >= to) errors.to_date = 'The end date must be after the start date';
  if (from !== undefined) query.from_date = from;
  if (to !== undefined) query.to_date = to;
  return { query, errors };
}

/** The page number asked for; anything unreadable is the first page. */
export function pageNumber(form: SearchForm): number {
  const text = blank(form.page);
  return text !== undefined && /^[1-9]\d{0,6}$/.test(text) ? Number(text) : 1;
}

/** The filters as a query string (for the export link and page links), blank ones left out. */
export function filterQueryString(form: SearchForm, extra: Record<string, string> = {}): string {
  const params = new URLSearchParams();
  for (const name of FILTERS) {
    const value = blank(form[name]);
    if (value !== undefined) params.set(name, value);
  }
  for (const [name, value] of Object.entries(extra)) params.set(name, value);
  const text = params.toString();
  return text ? `?${text}` : '';
}

/** The form's values to show back in its fields (never undefined: the views refuse undefined). */
export function formValues(form: SearchForm): Record<(typeof FILTERS)[number], string> {
  return Object.fromEntries(FILTERS.map((name) => [name, form[name] ?? ''])) as Record<(typeof FILTERS)[number], string>;
}

export const brandOptions = (): { value: string; label: string }[] => CARD_BRANDS.map((value) => ({ value, label: brandLabel(value) }));

// ---- refund amount

export type AmountResult = { ok: true; amount: number } | { ok: false; error: string };

// eslint-disable-next-line security/detect-unsafe-regex -- each repeated group starts with a comma: linear
const GROUPED = /^\d{1,3}(,\d{3})+(\.\d{1,2})?$/;
// eslint-disable-next-line security/detect-unsafe-regex -- bounded digit runs split by a literal point: linear
const PLAIN = /^(\d{1,9})(?:\.(\d{1,2}))?$/;

/**
 * "12.50", "£12.50", "1,234.5" or "12" as minor units: split at the point and read both parts as
 * integers (12.5 → 1250), so no binary fraction ever touches the amount.
 */
export function parseAmount(text: string | undefined, available: number, currency: string): AmountResult {
  let value = (text ?? '').trim().replace(/^£\s*/, '');
  if (value === '') return { ok: false, error: 'Enter the amount to refund' };
  if (GROUPED.test(value)) value = value.replaceAll(',', '');
  const match = PLAIN.exec(value);
  if (!match) return { ok: false, error: 'Enter the amount in pounds and pence, like 12.50' };
  const pence = match[2] === undefined ? 0 : Number(match[2].padEnd(2, '0'));
  const amount = Number(match[1]) * 100 + pence;
  if (amount === 0) return { ok: false, error: 'The amount to refund must be more than £0.00' };
  if (amount > available) return { ok: false, error: `The amount to refund cannot be more than the ${formatMinor(available, currency)} available` };
  return { ok: true, amount };
}

/** Minor units as "£12.50" (the views use the `money` filter; this is for messages). */
export function formatMinor(amount: number, currency: string): string {
  return new Intl.NumberFormat('en-GB', { style: 'currency', currency }).format(amount / 100);
}

/** An instant as people read it in the console: "25 Nov 2026, 15:40:12" (UTC, as the page says). */
const TIME_FORMAT = new Intl.DateTimeFormat('en-GB', { timeZone: 'UTC', day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });

export function formatTime(iso: string | Date): string {
  return TIME_FORMAT.format(typeof iso === 'string' ? new Date(iso) : iso);
}
