// GOV.UK Pay's P-codes for the payments API (§4, §4.1), in one registry: code → HTTP status and
// description template. Codes are per endpoint, exactly as publicapi uses them.
import { CofferError, fill } from '../platform/errors.js';

export const paymentErrors = {
  P0101: { status: 400, description: 'Missing mandatory attribute: %s' },
  P0102: { status: 422, description: 'Invalid attribute value: %s. %s' },
  P0103: { status: 400, description: 'Invalid attribute value: set_up_agreement. Agreement ID does not exist' },
  P0104: { status: 400, description: 'Unexpected attribute: %s' },
  P0191: { status: 409, description: 'The Idempotency-Key has already been used to create a payment' },
  P0195: { status: 422, description: 'Invalid attribute value: authorisation_mode. Using authorisation_mode of moto_api is not allowed for this account' },
  P0196: { status: 422, description: 'MOTO payments are not enabled for this account. Please contact support if you would like to process MOTO payments - https://www.payments.service.gov.uk/support/' },
  P0197: { status: 400, description: 'Unable to parse JSON' },
  P0200: { status: 404, description: 'Not found' },
  P0300: { status: 404, description: 'Not found' },
  P0401: { status: 422, description: 'Invalid parameters: %s. See Public API documentation for the correct data formats' },
  P0402: { status: 404, description: 'Page not found' },
  P0500: { status: 404, description: 'Not found' },
  P0501: { status: 400, description: 'Cancellation of payment failed' },
  P0502: { status: 409, description: 'Cancellation of payment failed' },
  P0600: { status: 404, description: 'Not found' },
  P0601: { status: 400, description: 'Missing mandatory attribute: %s' },
  P0602: { status: 422, description: 'Invalid attribute value: %s. %s' },
  P0603: { status: 400, description: 'The payment is not available for refund. Payment refund status: %s' },
  P0604: { status: 412, description: 'Refund amount available mismatch.' },
  P0697: { status: 400, description: 'Unable to parse JSON' },
  P0700: { status: 404, description: 'Not found' },
  P0800: { status: 404, description: 'Not found' },
  P0900: { status: 429, description: 'Too many requests' },
  P0920: { status: 422, description: 'Invalid attribute value: return_url. Must begin with https:// for a live gateway account' },
  P0941: { status: 403, description: 'Payment and refund creation has been disabled for this account. Please contact support - https://www.payments.service.gov.uk/support/' },
  P0942: { status: 422, description: 'Recurring card payments are currently disabled for this service. Please contact support if you would like to take recurring card payments - https://www.payments.service.gov.uk/support/' },
  P1000: { status: 404, description: 'Not found' },
  P1001: { status: 400, description: 'Capture of payment failed' },
  P1003: { status: 409, description: 'Payment cannot be captured' },
  P1100: { status: 404, description: 'Page not found' },
  P1101: { status: 422, description: 'Invalid parameters: %s. See Public API documentation for the correct data formats' },
} as const satisfies Record<string, { status: number; description: string }>;

export type PaymentErrorCode = keyof typeof paymentErrors;

export function paymentError(code: PaymentErrorCode, args: string[] = [], options: { field?: string; header?: string } = {}): CofferError {
  const entry = paymentErrors[code];
  return new CofferError(code, entry.status, fill(entry.description, args), options);
}

/** P0102 is 400 from publicapi's parser and checks, 422 from bean validation: the same code, two statuses. */
export function paymentErrorWithStatus(code: PaymentErrorCode, status: number, args: string[] = [], options: { field?: string; header?: string } = {}): CofferError {
  return new CofferError(code, status, fill(paymentErrors[code].description, args), options);
}

/** The P-code for "not found" differs per endpoint. */
export type NotFoundCode = 'P0200' | 'P0300' | 'P0500' | 'P0600' | 'P0700' | 'P0800' | 'P1000';
