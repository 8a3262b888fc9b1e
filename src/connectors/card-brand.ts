// Card brand detection from the number's leading digits (its IIN), and what may be kept of a
// card. Pure functions, no I/O: the payment page validates with them, processors summarise with
// them, and the browser script (src/hosted/assets/card-brand.js) mirrors the same table (a test
// holds the two together). The full number passes through here and is never retained.
import type { CardBrand, CardDetails, CardSummary } from './connector.js';
import { passesLuhn } from '../platform/card-numbers.js';

interface BrandRule {
  brand: CardBrand;
  /** Inclusive prefix ranges, compared on the first `from.length` digits. */
  ranges: Array<[from: string, to: string]>;
  cvcLength: number;
}

// Longest matching prefix wins, so the narrow ranges (Maestro's 6759, Discover's 6011) beat the
// broad ones. Ranges follow the networks' published IIN tables as mirrored by credit-card-type.
const RULES: readonly BrandRule[] = [
  { brand: 'visa', ranges: [['4', '4']], cvcLength: 3 },
  { brand: 'master-card', ranges: [['51', '55'], ['2221', '2720']], cvcLength: 3 },
  { brand: 'american-express', ranges: [['34', '34'], ['37', '37']], cvcLength: 4 },
  { brand: 'diners-club', ranges: [['300', '305'], ['36', '36'], ['38', '39']], cvcLength: 3 },
  { brand: 'discover', ranges: [['6011', '6011'], ['644', '649'], ['65', '65']], cvcLength: 3 },
  { brand: 'jcb', ranges: [['2131', '2131'], ['1800', '1800'], ['3528', '3589']], cvcLength: 3 },
  { brand: 'unionpay', ranges: [['62', '62'], ['81', '81']], cvcLength: 3 },
  {
    brand: 'maestro',
    ranges: [['493698', '493698'], ['500000', '504174'], ['504176', '506698'], ['506779', '508999'], ['56', '59'], ['63', '63'], ['67', '67']],
    cvcLength: 3,
  },
];

export const CARD_BRANDS: readonly CardBrand[] = RULES.map((r) => r.brand);

/** Human names, as the payment page shows them. */
export const BRAND_LABELS: Record<CardBrand, string> = {
  visa: 'Visa',
  'master-card': 'Mastercard',
  'american-express': 'American Express',
  'diners-club': 'Diners Club',
  discover: 'Discover',
  jcb: 'JCB',
  unionpay: 'Union Pay',
  maestro: 'Maestro',
};

/** Strips the spaces a payer may type between groups; anything else stays and fails validation. */
export function normaliseCardNumber(input: string): string {
  return input.replace(/\s+/g, '');
}

/** The brand for a (possibly partial) card number, or undefined when no network claims it. */
export function detectBrand(digits: string): CardBrand | undefined {
  let best: { brand: CardBrand; length: number } | undefined;
  for (const rule of RULES) {
    for (const [from, to] of rule.ranges) {
      const n = from.length;
      if (digits.length < n) continue;
      const head = digits.slice(0, n);
      if (head >= from && head <= to && (!best || n > best.length)) best = { brand: rule.brand, length: n };
    }
  }
  return best?.brand;
}

/** The CVC length the brand uses: four digits on the front for Amex, three elsewhere. */
export function cvcLengthFor(brand: CardBrand | undefined): number {
  return RULES.find((r) => r.brand === brand)?.cvcLength ?? 3;
}

export function isPlausibleCardNumber(digits: string): boolean {
  return /^\d{12,19}$/.test(digits) && passesLuhn(digits);
}

/** MM/YY, the form GOV.UK Pay shows and stores. */
export function formatExpiry(month: number, year: number): string {
  return `${String(month).padStart(2, '0')}/${String(year % 100).padStart(2, '0')}`;
}

/**
 * What may be kept of a card: brand, first six and last four digits (PCI DSS 3.4.1 allows BIN +
 * last four), expiry, and the issuer facts the processor knows. Never the full number or CVC.
 */
export function summariseCard(
  card: Pick<CardDetails, 'number' | 'expiryMonth' | 'expiryYear'>,
  facts: Partial<Pick<CardSummary, 'cardType' | 'corporate' | 'prepaid'>> = {},
): CardSummary {
  return {
    brand: detectBrand(card.number),
    firstDigits: card.number.slice(0, 6),
    lastDigits: card.number.slice(-4),
    expiryDate: formatExpiry(card.expiryMonth, card.expiryYear),
    cardType: facts.cardType ?? null,
    corporate: facts.corporate ?? false,
    prepaid: facts.prepaid ?? 'UNKNOWN',
  };
}
