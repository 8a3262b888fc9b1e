// The sandbox processor and brand detection: every test card behaves as documented, live
// accounts never take test cards, test accounts take nothing else, and 3-D Secure answers
// only to the right code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SandboxProcessor, SANDBOX_REASONS } from '../../src/connectors/sandbox/sandbox.processor.js';
import { SANDBOX_CARDS, SANDBOX_3DS_CODE, findSandboxCard } from '../../src/connectors/sandbox/sandbox.cards.js';
import { detectBrand, summariseCard, cvcLengthFor } from '../../src/connectors/card-brand.js';
import { passesLuhn } from '../../src/platform/card-numbers.js';
import { ProcessorUnavailable, type AuthoriseRequest } from '../../src/connectors/connector.js';

const processor = new SandboxProcessor();
const request = (number: string, overrides: Partial<AuthoriseRequest> = {}): AuthoriseRequest => ({
  paymentId: 'p1',
  amount: 1000,
  currency: 'GBP',
  mode: 'test',
  payerPresent: true,
  card: { number, expiryMonth: 12, expiryYear: 2030, cvc: '123', cardholderName: 'A Payer' },
  ...overrides,
});

test('every test card passes Luhn, has 12–19 digits and the brand detection agrees with the table', () => {
  for (const card of SANDBOX_CARDS) {
    assert.ok(passesLuhn(card.number), card.number);
    assert.ok(card.number.length >= 12 && card.number.length <= 19, card.number);
    assert.equal(detectBrand(card.number), card.brand, card.number);
  }
});

test('GOV.UK Pay sandbox outcomes, card by card', async () => {
  const expected: Record<string, string> = {
    authorise: 'authorised',
    'authorise-present-only': 'authorised',
    decline: 'rejected:declined',
    expired: 'rejected:expired_card',
    'cvc-error': 'rejected:cvc_error',
    'processing-error': `error:${SANDBOX_REASONS.processing}`,
    '3ds-challenge': 'requires_3ds',
    '3ds-challenge-then-decline': 'requires_3ds',
    '3ds-challenge-then-error': 'requires_3ds',
  };
  for (const card of SANDBOX_CARDS.filter((c) => c.behaviour !== 'timeout')) {
    const outcome = await processor.authorise(request(card.number));
    const got = outcome.outcome === 'rejected' || outcome.outcome === 'error' ? `${outcome.outcome}:${outcome.reason}` : outcome.outcome;
    assert.equal(got, expected[card.behaviour], card.number);
    assert.ok(outcome.card, card.number);
    assert.equal(outcome.card.firstDigits, card.number.slice(0, 6));
    assert.equal(outcome.card.lastDigits, card.number.slice(-4));
    assert.equal(outcome.card.brand, card.brand);
    assert.equal(outcome.card.cardType, card.cardType);
    assert.equal(outcome.card.corporate, card.corporate);
    assert.equal(outcome.card.prepaid, card.prepaid);
    assert.equal(outcome.card.expiryDate, '12/30');
    assert.ok(!JSON.stringify(outcome).includes(card.number), 'the outcome never carries the full number');
  }
});

test('corporate and prepaid facts are the ones GOV.UK Pay documents', () => {
  assert.equal(findSandboxCard('4111111111111111')?.corporate, true);
  assert.equal(findSandboxCard('4131840000000003')?.prepaid, 'PREPAID');
  assert.equal(findSandboxCard('4000160000000004')?.corporate, false);
  assert.equal(findSandboxCard('4000000000000010')?.cardType, null);
});

test('any other number is refused: an unsupported-card error', async () => {
  const outcome = await processor.authorise(request('4012888888881881'));
  assert.deepEqual({ outcome: outcome.outcome, reason: 'reason' in outcome ? outcome.reason : undefined }, { outcome: 'error', reason: SANDBOX_REASONS.unsupported });
  assert.equal(processor.acceptsCard('4012888888881881', 'test'), false);
  assert.equal(processor.acceptsCard('4444333322221111', 'test'), true);
});

test('live accounts never take test cards, nor anything else through the sandbox', async () => {
  for (const number of ['4444333322221111', '4000000000003220']) {
    const outcome = await processor.authorise(request(number, { mode: 'live' }));
    assert.equal(outcome.outcome, 'rejected', number);
    assert.equal(processor.acceptsCard(number, 'live'), false);
  }
  const other = await processor.authorise(request('4012888888881881', { mode: 'live' }));
  assert.equal(other.outcome, 'error');
});

test('5105105105105100 authorises with the payer present and declines agreement payments', async () => {
  assert.equal((await processor.authorise(request('5105105105105100'))).outcome, 'authorised');
  assert.equal((await processor.authorise(request('5105105105105100', { payerPresent: false }))).outcome, 'rejected');
});

test('3-D Secure: the right code authorises, a wrong code rejects, and the issuer can still decline or fail', async () => {
  const challenge = async (number: string) => {
    const outcome = await processor.authorise(request(number));
    assert.equal(outcome.outcome, 'requires_3ds');
    return outcome.outcome === 'requires_3ds' ? outcome : assert.fail();
  };
  const pass = await challenge('4000000000003220');
  const base = { paymentId: 'p1', processorReference: pass.processorReference, challengeId: pass.challengeId };
  assert.deepEqual(await processor.completeThreeDs({ ...base, answer: SANDBOX_3DS_CODE }), { outcome: 'authorised' });
  assert.deepEqual(await processor.completeThreeDs({ ...base, answer: '654321' }), { outcome: 'rejected' });
  assert.deepEqual(await processor.completeThreeDs({ ...base, answer: '' }), { outcome: 'rejected' });

  const decline = await challenge('4000008400001629');
  assert.deepEqual(await processor.completeThreeDs({ paymentId: 'p1', processorReference: decline.processorReference, challengeId: decline.challengeId, answer: SANDBOX_3DS_CODE }), { outcome: 'rejected' });
  const error = await challenge('4000000000003287');
  assert.equal((await processor.completeThreeDs({ paymentId: 'p1', processorReference: error.processorReference, challengeId: error.challengeId, answer: SANDBOX_3DS_CODE })).outcome, 'error');
  assert.equal((await processor.completeThreeDs({ paymentId: 'p1', processorReference: 'x', challengeId: 'forged', answer: SANDBOX_3DS_CODE })).outcome, 'error');
  assert.equal(processor.testChallengeHint(), SANDBOX_3DS_CODE);
});

test('the timeout card throws ProcessorUnavailable: the outcome is unknown', async () => {
  await assert.rejects(processor.authorise(request('4000000000000408')), ProcessorUnavailable);
});

test('capture, cancel and refund always succeed', async () => {
  assert.equal((await processor.capture()).outcome, 'ok');
  assert.equal((await processor.cancel()).outcome, 'ok');
  assert.equal((await processor.refund()).outcome, 'ok');
});

test('brand detection by prefix, and CVC length per brand', () => {
  assert.equal(detectBrand('4'), 'visa');
  assert.equal(detectBrand('2221'), 'master-card');
  assert.equal(detectBrand('2720'), 'master-card');
  assert.equal(detectBrand('2721'), undefined);
  assert.equal(detectBrand('34'), 'american-express');
  assert.equal(detectBrand('6011'), 'discover');
  assert.equal(detectBrand('6759649826438453'), 'maestro');
  assert.equal(detectBrand('3528'), 'jcb');
  assert.equal(detectBrand('9'), undefined);
  assert.equal(cvcLengthFor('american-express'), 4);
  assert.equal(cvcLengthFor('visa'), 3);
  const summary = summariseCard({ number: '4444333322221111', expiryMonth: 3, expiryYear: 2031 });
  assert.deepEqual(summary, { brand: 'visa', firstDigits: '444433', lastDigits: '1111', expiryDate: '03/31', cardType: null, corporate: false, prepaid: 'UNKNOWN' });
});
