// Validation of the card details form, on the server: each field gets one specific message, in
// the order the payer reads the page. Pure: the caller supplies the account's settings, the
// clock and whether the processor would take the card. The card number and CVC are only ever
// returned in the parsed values for the authorisation call; errors never carry them.
import { cvcLengthFor, detectBrand, isPlausibleCardNumber, normaliseCardNumber, BRAND_LABELS } from '../connectors/card-brand.js';
import type { CardBrand } from '../connectors/connector.js';
import { looksLikeCardNumber, passesLuhn } from '../platform/card-numbers.js';
import type { HostedMessageKey } from './locales/en.js';
import type { EmailCollection } from './hosted.tables.js';
import { isCountryCode } from '../web/countries.js';

export const CARD_FIELDS = [
  'cardNo',
  'expiryMonth',
  'expiryYear',
  'cardholderName',
  'cvc',
  'addressLine1',
  'addressLine2',
  'addressCity',
  'addressPostcode',
  'addressCountry',
  'email',
] as const;
export type CardField = (typeof CARD_FIELDS)[number];

export interface FieldError {
  field: CardField;
  message: HostedMessageKey;
  params?: Record<string, string>;
}

export interface PageSettings {
  collectBillingAddress: boolean;
  emailCollection: EmailCollection;
  acceptedBrands: readonly CardBrand[];
}

export interface CardFormInput {
  raw: Partial<Record<CardField, string>>;
  settings: PageSettings;
  now: Date;
  /** Whether the account's processor would try this number in this mode (test cards only on test). */
  processorAccepts: (digits: string) => boolean;
  mode: 'test' | 'live';
}

export interface CardFormValues {
  cardNumber: string;
  brand: CardBrand;
  expiryMonth: number;
  expiryYear: number;
  cvc: string;
  cardholderName: string;
  address: { line1: string; line2?: string; city: string; postcode: string; country: string } | undefined;
  email: string | undefined;
}

export type CardFormResult = { ok: true; values: CardFormValues } | { ok: false; errors: FieldError[] };

const MAX_TEXT = 255;
// Outward code then inward code, the space optional: a shape check, not a lookup.
const UK_POSTCODE = /^[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}$/i;

/** One @, something before it, and a domain of dot-separated labels (at least one dot). */
function looksLikeEmail(value: string): boolean {
  const at = value.indexOf('@');
  if (at <= 0 || at !== value.lastIndexOf('@') || /\s/.test(value)) return false;
  const labels = value.slice(at + 1).split('.');
  return labels.length >= 2 && labels.every((label) => label.length > 0);
}

const clean = (value: string | undefined): string => (value ?? '').trim();

/** More than 11 digits anywhere, or a Luhn-valid run: free text must not carry a card number. */
export function containsCardNumber(text: string): boolean {
  return (text.match(/\d/g)?.length ?? 0) > 11 || looksLikeCardNumber(text);
}

export function validateCardForm(input: CardFormInput): CardFormResult {
  const { raw, settings } = input;
  const errors: FieldError[] = [];
  const fail = (field: CardField, message: HostedMessageKey, params?: Record<string, string>): void => {
    errors.push(params ? { field, message, params } : { field, message });
  };

  // Card number.
  const cardRaw = clean(raw.cardNo);
  const cardNumber = normaliseCardNumber(cardRaw);
  const brand = detectBrand(cardNumber);
  if (cardRaw === '') fail('cardNo', 'errors.cardNo.missing');
  else if (!/^[\d\s]+$/.test(cardRaw)) fail('cardNo', 'errors.cardNo.characters');
  else if (cardNumber.length < 12 || cardNumber.length > 19) fail('cardNo', 'errors.cardNo.length');
  else if (!passesLuhn(cardNumber)) fail('cardNo', 'errors.cardNo.invalid');
  else if (!brand) fail('cardNo', 'errors.cardNo.unknownBrand');
  else if (!settings.acceptedBrands.includes(brand)) fail('cardNo', 'errors.cardNo.brandNotAccepted', { brand: BRAND_LABELS[brand] });
  else if (!input.processorAccepts(cardNumber)) fail('cardNo', input.mode === 'test' ? 'errors.cardNo.testOnly' : 'errors.cardNo.liveOnly');

  // Expiry: month 1–12, year of 2 or 4 digits up to 2099, and not before this month (UTC).
  const monthText = clean(raw.expiryMonth);
  const yearText = clean(raw.expiryYear);
  let expiryMonth = 0;
  let expiryYear = 0;
  if (monthText === '' && yearText === '') fail('expiryMonth', 'errors.expiry.missing');
  else if (!/^\d{1,2}$/.test(monthText) || Number(monthText) < 1 || Number(monthText) > 12) fail('expiryMonth', 'errors.expiry.month');
  else if (!/^(\d{2}|\d{4})$/.test(yearText) || (yearText.length === 4 && (Number(yearText) < 2000 || Number(yearText) > 2099))) {
    fail('expiryYear', 'errors.expiry.year');
  } else {
    expiryMonth = Number(monthText);
    expiryYear = yearText.length === 2 ? 2000 + Number(yearText) : Number(yearText);
    const thisMonth = input.now.getUTCFullYear() * 12 + input.now.getUTCMonth();
    if (expiryYear * 12 + (expiryMonth - 1) < thisMonth) fail('expiryMonth', 'errors.expiry.past');
  }

  // Cardholder name.
  const cardholderName = clean(raw.cardholderName);
  if (cardholderName === '') fail('cardholderName', 'errors.name.missing');
  else if (cardholderName.length > MAX_TEXT) fail('cardholderName', 'errors.name.tooLong');
  else if (containsCardNumber(cardholderName)) fail('cardholderName', 'errors.name.cardNumber');
  else if (/^\d{3,4}$/.test(cardholderName)) fail('cardholderName', 'errors.name.cvc');

  // CVC: 3 digits, or 4 for American Express.
  const cvc = clean(raw.cvc);
  if (cvc === '') fail('cvc', 'errors.cvc.missing');
  else if (!/^\d{3,4}$/.test(cvc)) fail('cvc', 'errors.cvc.format');
  else if (brand && cvc.length !== cvcLengthFor(brand)) fail('cvc', brand === 'american-express' ? 'errors.cvc.amex' : 'errors.cvc.three');

  // Billing address.
  let address: CardFormValues['address'];
  if (settings.collectBillingAddress) {
    const line1 = clean(raw.addressLine1);
    const line2 = clean(raw.addressLine2);
    const city = clean(raw.addressCity);
    const postcode = clean(raw.addressPostcode).toUpperCase();
    const country = clean(raw.addressCountry).toUpperCase();
    const textField = (field: CardField, value: string, missing: HostedMessageKey | undefined): void => {
      if (value === '') {
        if (missing) fail(field, missing);
      } else if (value.length > MAX_TEXT) fail(field, 'errors.address.tooLong');
      else if (containsCardNumber(value)) fail(field, 'errors.address.cardNumber');
    };
    textField('addressLine1', line1, 'errors.line1.missing');
    textField('addressLine2', line2, undefined);
    textField('addressCity', city, 'errors.city.missing');
    if (postcode === '') fail('addressPostcode', 'errors.postcode.missing');
    else if (containsCardNumber(postcode)) fail('addressPostcode', 'errors.address.cardNumber');
    else if (country === 'GB' && !UK_POSTCODE.test(postcode)) fail('addressPostcode', 'errors.postcode.invalid');
    else if (postcode.length > 20) fail('addressPostcode', 'errors.address.tooLong');
    if (!isCountryCode(country)) fail('addressCountry', 'errors.country.missing');
    address = { line1, ...(line2 === '' ? {} : { line2 }), city, postcode, country };
  }

  // Email.
  let email: string | undefined;
  if (settings.emailCollection !== 'off') {
    const value = clean(raw.email);
    if (value === '') {
      if (settings.emailCollection === 'mandatory') fail('email', 'errors.email.missing');
    } else if (value.length > 254 || !looksLikeEmail(value)) fail('email', 'errors.email.invalid');
    else if (containsCardNumber(value)) fail('email', 'errors.email.cardNumber');
    else email = value;
  }

  if (errors.length > 0 || !brand || !isPlausibleCardNumber(cardNumber)) return { ok: false, errors };
  return { ok: true, values: { cardNumber, brand, expiryMonth, expiryYear, cvc, cardholderName, address, email } };
}
