// The transactions CSV: RFC 4180 (every cell quoted, quotes doubled, CRLF rows) and safe to open
// in a spreadsheet. Reference, description, metadata, email and cardholder name come from the
// service or the payer, so a cell that a spreadsheet would run as a formula (= + - @, tab, CR)
// gets a leading apostrophe (OWASP's CSV injection advice). Amounts are written from integer
// minor units as text ("12.50"), never through a float.
import type { PaymentView } from '../../payments/payment.resource.js';

export const CSV_HEADER = [
  'Payment ID',
  'Date created (UTC)',
  'Reference',
  'Description',
  'Email',
  'Amount',
  'Currency',
  'State',
  'Finished',
  'Error code',
  'Error message',
  'Card brand',
  'Cardholder name',
  'Card last four',
  'Card expiry',
  'Refund status',
  'Amount refunded',
  'Amount available to refund',
  'Captured date',
  'Provider ID',
  'Delayed capture',
  'MOTO',
  'Metadata',
] as const;

const FORMULA_START = /^[=+\-@\t\r]/;

export function csvCell(value: string | number | boolean | undefined): string {
  let text = value === undefined ? '' : String(value);
  if (FORMULA_START.test(text)) text = `'${text}`;
  return `"${text.replaceAll('"', '""')}"`;
}

export const csvRow = (cells: readonly (string | number | boolean | undefined)[]): string => `${cells.map(csvCell).join(',')}\r\n`;

/** 1250 → "12.50": integer division and remainder, no float. */
export function decimalAmount(minor: number): string {
  const sign = minor < 0 ? '-' : '';
  const abs = Math.abs(minor);
  return `${sign}${Math.trunc(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

export function paymentCsvRow(payment: PaymentView): string {
  const card = payment.card_details;
  return csvRow([
    payment.payment_id,
    payment.created_date,
    payment.reference,
    payment.description,
    payment.email,
    decimalAmount(payment.amount),
    'GBP',
    payment.state.status,
    payment.state.finished,
    payment.state.code,
    payment.state.message,
    card?.card_brand,
    card?.cardholder_name,
    card?.last_digits_card_number,
    card?.expiry_date,
    payment.refund_summary.status,
    decimalAmount(payment.refund_summary.amount_submitted),
    decimalAmount(payment.refund_summary.amount_available),
    payment.settlement_summary.captured_date,
    payment.provider_id,
    payment.delayed_capture,
    payment.moto,
    payment.metadata === undefined ? undefined : JSON.stringify(payment.metadata),
  ]);
}
