// The sandbox's test cards: GOV.UK Pay's sandbox numbers (so services moving to Coffer keep their
// test scripts), plus Coffer's own 3-D Secure and timeout cards. A card's behaviour is chosen
// by its number alone; any future expiry and any CVC are accepted, as GOV.UK Pay's sandbox does.
import type { CardBrand, CardSummary } from '../connector.js';

export type SandboxBehaviour =
  | 'authorise'
  /** Authorises while the payer is present; declines agreement (user-not-present) payments. */
  | 'authorise-present-only'
  | 'decline'
  | 'expired'
  | 'cvc-error'
  | 'processing-error'
  /** 3-D Secure challenge; the right one-time code authorises, a wrong one rejects. */
  | '3ds-challenge'
  /** 3-D Secure challenge; the issuer declines even after the right code. */
  | '3ds-challenge-then-decline'
  /** 3-D Secure challenge; the processor fails after the right code. */
  | '3ds-challenge-then-error'
  /** The processor does not answer: authorise throws ProcessorUnavailable. */
  | 'timeout';

export interface SandboxCard {
  number: string;
  brand: CardBrand;
  behaviour: SandboxBehaviour;
  cardType: CardSummary['cardType'];
  corporate: boolean;
  prepaid: CardSummary['prepaid'];
  /** Where the number comes from: GOV.UK Pay's sandbox, or Coffer's own. */
  origin: 'govuk-pay' | 'coffer';
  note: string;
}

/** The one-time code the sandbox issuer accepts for every 3-D Secure challenge. */
export const SANDBOX_3DS_CODE = '123456';

const card = (
  number: string,
  brand: CardBrand,
  behaviour: SandboxBehaviour,
  facts: { cardType?: CardSummary['cardType']; corporate?: boolean; prepaid?: CardSummary['prepaid'] },
  note: string,
  origin: SandboxCard['origin'] = 'govuk-pay',
): SandboxCard => ({
  number,
  brand,
  behaviour,
  cardType: facts.cardType ?? null,
  corporate: facts.corporate ?? false,
  prepaid: facts.prepaid ?? 'NOT_PREPAID',
  origin,
  note,
});

export const SANDBOX_CARDS: readonly SandboxCard[] = [
  // Authorised (GOV.UK Pay reference notes §10.1).
  card('4444333322221111', 'visa', 'authorise', { cardType: 'credit' }, 'Visa credit'),
  card('4917610000000000003', 'visa', 'authorise', { cardType: 'debit' }, 'Visa debit, 19 digits'),
  card('4000056655665556', 'visa', 'authorise', { cardType: 'debit' }, 'Visa debit'),
  card('371449635398431', 'american-express', 'authorise', { cardType: 'credit' }, 'American Express'),
  card('3566002020360505', 'jcb', 'authorise', { cardType: 'credit' }, 'JCB'),
  card('6011000990139424', 'discover', 'authorise', { cardType: 'credit' }, 'Discover'),
  card('36148900647913', 'diners-club', 'authorise', { cardType: 'credit' }, 'Diners Club'),
  card('4242424242424242', 'visa', 'authorise', { cardType: 'credit' }, 'Visa credit'),
  card('5105105105105100', 'master-card', 'authorise-present-only', { cardType: 'debit' }, 'Mastercard debit; agreement (recurring) payments are declined'),
  card('222100000000000', 'master-card', 'authorise', { cardType: 'credit' }, 'Mastercard credit'),
  card('4000000000000010', 'visa', 'authorise', { cardType: null, prepaid: 'PREPAID' }, 'Visa prepaid, credit or debit unknown'),
  card('4000160000000004', 'visa', 'authorise', { cardType: 'debit', prepaid: 'PREPAID' }, 'Visa prepaid debit, not corporate'),
  card('4000020000000000', 'visa', 'authorise', { cardType: 'credit' }, 'Visa, not corporate, not prepaid'),
  // Authorised, corporate.
  card('4988080000000000', 'visa', 'authorise', { cardType: 'debit', corporate: true }, 'Visa corporate debit'),
  card('4111111111111111', 'visa', 'authorise', { cardType: 'credit', corporate: true }, 'Visa corporate credit'),
  card('4293189100000008', 'visa', 'authorise', { cardType: 'credit', corporate: true }, 'Visa corporate credit'),
  card('5101180000000007', 'master-card', 'authorise', { cardType: 'credit', corporate: true, prepaid: 'UNKNOWN' }, 'Mastercard corporate credit, prepaid unknown'),
  // Authorised, corporate prepaid debit.
  card('4131840000000003', 'visa', 'authorise', { cardType: 'debit', corporate: true, prepaid: 'PREPAID' }, 'Visa corporate prepaid debit'),
  card('4000180000000002', 'visa', 'authorise', { cardType: 'debit', corporate: true, prepaid: 'PREPAID' }, 'Visa corporate prepaid debit'),
  card('5200828282828210', 'master-card', 'authorise', { cardType: 'debit', corporate: true, prepaid: 'PREPAID' }, 'Mastercard corporate prepaid debit'),
  // Rejected → failed / P0010.
  card('4000000000000002', 'visa', 'decline', { cardType: 'credit' }, 'Declined'),
  card('4000000000000069', 'visa', 'expired', { cardType: 'credit' }, 'Expired card'),
  card('4000000000000127', 'visa', 'cvc-error', { cardType: 'credit' }, 'Incorrect CVC'),
  // Error → error / P0050.
  card('4000000000000119', 'visa', 'processing-error', { cardType: 'credit' }, 'Processing error'),
  // Coffer's own: 3-D Secure and an unreachable processor.
  card('4000000000003220', 'visa', '3ds-challenge', { cardType: 'credit' }, '3-D Secure challenge: the right code authorises, a wrong code rejects', 'coffer'),
  card('4000002500003155', 'visa', '3ds-challenge', { cardType: 'debit' }, '3-D Secure challenge (the number GOV.UK Pay documents for Stripe 3DS)', 'coffer'),
  card('5555555555554428', 'master-card', '3ds-challenge', { cardType: 'debit' }, 'Mastercard 3-D Secure challenge', 'coffer'),
  card('4000008400001629', 'visa', '3ds-challenge-then-decline', { cardType: 'credit' }, '3-D Secure challenge, then declined whatever the code', 'coffer'),
  card('4000000000003287', 'visa', '3ds-challenge-then-error', { cardType: 'credit' }, '3-D Secure challenge, then a processing error after the right code', 'coffer'),
  card('4000000000000408', 'visa', 'timeout', { cardType: 'credit' }, 'The processor does not answer: the payment stays in flight for the sweeper', 'coffer'),
];

const BY_NUMBER = new Map(SANDBOX_CARDS.map((c) => [c.number, c]));

export function findSandboxCard(digits: string): SandboxCard | undefined {
  return BY_NUMBER.get(digits);
}

export function isSandboxTestCard(digits: string): boolean {
  return BY_NUMBER.has(digits);
}
