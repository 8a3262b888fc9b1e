// Request and response schemas of the payments API, with GOV.UK Pay's exact messages, and the
// mapping from schema failures to its P-codes: unexpected attribute → 400 P0104, missing →
// 400 P0101, wrong JSON type → 400 P0102, a value out of its rules → 422 P0102.
import { z } from 'zod';
import { CofferError } from '../platform/errors.js';
import type { ValidationIssue } from '../http/types.js';
import { paymentError, paymentErrorWithStatus, type PaymentErrorCode } from './payment.errors.js';

// Messages that publicapi's JSON parser gives (HTTP 400); every other value rule is bean validation (422).
const TYPE_MESSAGES = new Set(['Must be a valid numeric format', 'Must be a valid string format', 'Must be true or false', 'Field must be a string']);
const STRING = { error: 'Must be a valid string format' };
const NAXSI_FORBIDDEN = /[<>|]/;

const lengthMessage = (max: number) => ({ error: `Must be less than or equal to ${max} characters length` });
const safeText = (max: number) =>
  z
    .string(STRING)
    .max(max, lengthMessage(max))
    .refine((v) => !NAXSI_FORBIDDEN.test(v), STRING);

export function isValidReturnUrl(value: string): boolean {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname.length > 0;
}

const METADATA_MAX_PAIRS = 15;
const metadataSchema = z.unknown().superRefine((value, ctx) => {
  const fail = (message: string) => ctx.addIssue({ code: 'custom', message });
  if (value === null) return fail('Value must not be null');
  if (typeof value !== 'object' || Array.isArray(value)) return fail('Must be an object of JSON key-value pairs');
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length > METADATA_MAX_PAIRS) return fail(`Cannot have more than ${METADATA_MAX_PAIRS} key-value pairs`);
  const seen = new Set<string>();
  for (const [key, item] of entries) {
    if (key.length < 1 || key.length > 30) return fail('Keys must be between 1 and 30 characters long');
    if (seen.has(key.toLowerCase())) return fail('Keys must be unique, ignoring case');
    seen.add(key.toLowerCase());
    if (item === null) return fail('Values must not be null');
    if (typeof item === 'string') {
      if (item.length > 100) return fail('Values must be no greater than 100 characters long');
    } else if (typeof item !== 'number' && typeof item !== 'boolean') {
      return fail('Values must be of type String, Boolean or Number');
    }
  }
  return undefined;
});

const nullableString = (max: number) => z.string({ error: 'Field must be a string' }).max(max, lengthMessage(max)).nullable().optional();

export const createPaymentBody = z.strictObject({
  amount: z
    .number({ error: 'Must be a valid numeric format' })
    .int({ error: 'Must be a valid numeric format' })
    .min(0, { error: 'Must be greater than or equal to 1' })
    .max(10_000_000, { error: 'Must be less than or equal to 10000000' })
    .describe('In pence. 1 to 10,000,000.'),
  reference: safeText(255),
  description: safeText(255),
  return_url: z
    .string(STRING)
    .max(2000, lengthMessage(2000))
    .refine(isValidReturnUrl, { error: 'Must be a valid URL format' })
    .optional()
    .describe('Required in web mode; https:// on live accounts.'),
  language: z.enum(['en', 'cy'], { error: 'Must be "en" or "cy"' }).optional(),
  email: z.string(STRING).max(254, lengthMessage(254)).optional(),
  delayed_capture: z.boolean({ error: 'Must be true or false' }).optional(),
  moto: z.boolean({ error: 'Must be true or false' }).optional(),
  metadata: metadataSchema.optional().describe('A flat object: up to 15 keys of 1-30 characters; string (≤100), number or boolean values.'),
  prefilled_cardholder_details: z
    .object(
      {
        cardholder_name: nullableString(255),
        billing_address: z
          .object(
            { line1: nullableString(255), line2: nullableString(255), postcode: nullableString(25), city: nullableString(255), country: nullableString(2) },
            { error: 'Must be an object' },
          )
          .nullable()
          .optional(),
      },
      { error: 'Must be an object' },
    )
    .optional(),
  authorisation_mode: z.enum(['web', 'moto_api', 'agreement'], { error: 'Must be one of web, moto_api, agreement' }).optional(),
  agreement_id: z.string(STRING).length(26, { error: 'Must be exactly 26 characters length' }).optional(),
  set_up_agreement: z.string(STRING).length(26, { error: 'Must be exactly 26 characters length' }).optional(),
  agreement_payment_type: z.enum(['instalment', 'recurring', 'unscheduled'], { error: 'Must be one of instalment, recurring, unscheduled' }).optional(),
});

/** Maps schema failures of a JSON body to the endpoint's codes (create payment or create refund). */
export function bodyValidationError(codes: { missing: PaymentErrorCode; invalid: PaymentErrorCode; unparseable: PaymentErrorCode; unexpected?: PaymentErrorCode }) {
  return (issues: ValidationIssue[]): CofferError => {
    if (issues.some((i) => i.code === 'invalid_json' || (i.path === '' && i.code === 'invalid_type'))) return paymentError(codes.unparseable);
    const unexpected = issues.find((i) => i.code === 'unrecognized_keys');
    if (unexpected && codes.unexpected) {
      const key = unexpected.unexpectedKeys[0] ?? '';
      return paymentError(codes.unexpected, [key], { field: key });
    }
    // Like publicapi's parser, the first field (in schema order) that is missing or of the wrong
    // JSON type wins (400); only then the value rules (422).
    const first400 = issues.find((i) => (!i.present && i.path !== '') || TYPE_MESSAGES.has(i.message));
    if (first400 && !first400.present) return paymentError(codes.missing, [first400.path], { field: first400.path });
    const issue = first400 ?? issues[0];
    if (!issue) return paymentError(codes.unparseable);
    return paymentErrorWithStatus(codes.invalid, first400 ? 400 : 422, [issue.path, issue.message], { field: issue.path });
  };
}

export const createPaymentValidationError = bodyValidationError({ missing: 'P0101', invalid: 'P0102', unparseable: 'P0197', unexpected: 'P0104' });

// ---- responses

const link = z.object({ href: z.string(), method: z.string() });
const postLink = z.object({ href: z.string(), method: z.string(), type: z.string().optional(), params: z.record(z.string(), z.string()).optional() });
export const paymentState = z.object({
  status: z.enum(['created', 'started', 'submitted', 'capturable', 'success', 'failed', 'cancelled', 'error']),
  finished: z.boolean(),
  message: z.string().optional(),
  code: z.string().optional(),
  can_retry: z.boolean().optional(),
});
const address = z.object({ line1: z.string().optional(), line2: z.string().optional(), postcode: z.string().optional(), city: z.string().optional(), country: z.string().optional() });

const paymentFields = {
  amount: z.number().int(),
  description: z.string(),
  reference: z.string(),
  language: z.enum(['en', 'cy']),
  email: z.string().optional(),
  state: paymentState,
  payment_id: z.string(),
  payment_provider: z.string(),
  provider_id: z.string().optional(),
  return_url: z.string().optional(),
  created_date: z.string(),
  refund_summary: z.object({ status: z.enum(['pending', 'available', 'full', 'unavailable']), amount_available: z.number().int(), amount_submitted: z.number().int() }),
  settlement_summary: z.object({ capture_submit_time: z.string().optional(), captured_date: z.string().optional() }),
  card_details: z
    .object({
      last_digits_card_number: z.string().optional(),
      first_digits_card_number: z.string().optional(),
      cardholder_name: z.string().optional(),
      expiry_date: z.string().optional(),
      billing_address: address.optional(),
      card_brand: z.string().optional(),
      card_type: z.string().optional(),
    })
    .optional(),
  card_brand: z.string().optional(),
  delayed_capture: z.boolean(),
  moto: z.boolean(),
  metadata: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
  authorisation_summary: z.object({ three_d_secure: z.object({ required: z.boolean() }) }).optional(),
  agreement_id: z.string().optional(),
  authorisation_mode: z.enum(['web', 'moto_api', 'agreement']),
  agreement_payment_type: z.string().optional(),
};

export const paymentResponse = z.object({
  ...paymentFields,
  _links: z.object({
    self: link,
    next_url: link.optional(),
    next_url_post: postLink.optional(),
    events: link,
    refunds: link,
    cancel: postLink.optional(),
    capture: postLink.optional(),
  }),
});

export const paymentSearchResult = z.object({
  ...paymentFields,
  _links: z.object({ self: link, events: link, refunds: link, cancel: postLink.optional(), capture: postLink.optional() }),
});

const hrefLink = z.object({ href: z.string() });
export const pageLinks = z.object({
  self: hrefLink,
  first_page: hrefLink.optional(),
  last_page: hrefLink.optional(),
  prev_page: hrefLink.optional(),
  next_page: hrefLink.optional(),
});

export const paymentSearchResponse = z.object({
  total: z.number().int(),
  count: z.number().int(),
  page: z.number().int(),
  results: z.array(paymentSearchResult),
  _links: pageLinks,
});

export const paymentEventsResponse = z.object({
  payment_id: z.string(),
  events: z.array(z.object({ payment_id: z.string(), state: paymentState, updated: z.string(), _links: z.object({ payment_url: link }) })),
  _links: z.object({ self: link }),
});

export const errorResponse = z.object({
  code: z.string(),
  field: z.string().optional(),
  header: z.string().optional(),
  description: z.string(),
  request_id: z.string(),
});

export const paymentParams = z.object({ paymentId: z.string().max(64) });

const q = z.string().optional();
export const paymentSearchQuery = z.object({
  reference: q,
  email: q,
  state: q,
  card_brand: q,
  from_date: q,
  to_date: q,
  page: q,
  display_size: q,
  cardholder_name: q,
  first_digits_card_number: q,
  last_digits_card_number: q,
  from_settled_date: q,
  to_settled_date: q,
  agreement_id: q,
});

/** A repeated query parameter (an array) is a bad parameter, named in the P0401 list. */
export function searchValidationError(code: 'P0401' | 'P1101') {
  return (issues: ValidationIssue[]): CofferError => {
    const names = [...new Set(issues.map((i) => i.path.split('.')[0] ?? '').filter(Boolean))];
    return paymentError(code, [names.join(', ')]);
  };
}
