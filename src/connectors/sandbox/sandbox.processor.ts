// The sandbox card processor: behaves as GOV.UK Pay's sandbox for its test cards and adds
// Coffer's own 3-D Secure cards. It holds no state at all (the 3-D Secure scenario travels in
// the challenge id), so any node can complete a challenge another node started, and nothing
// about a card outlives the call. Test accounts take only test cards; live accounts none.
import { randomBase62 } from '../../platform/random.js';
import { summariseCard } from '../card-brand.js';
import {
  ProcessorUnavailable,
  type AuthoriseOutcome,
  type AuthoriseRequest,
  type CardProcessor,
  type CardSummary,
  type SimpleOutcome,
  type ThreeDsOutcome,
} from '../connector.js';
import { constantTimeEqual } from '../../platform/hashing.js';
import { findSandboxCard, SANDBOX_3DS_CODE, type SandboxCard } from './sandbox.cards.js';

/** GOV.UK Pay's sandbox words for these outcomes, kept so services see the same reasons. */
export const SANDBOX_REASONS = {
  unsupported: 'Unsupported card details.',
  processing: 'This transaction could be not be processed.',
  live: 'The sandbox processor does not take live payments.',
} as const;

// The challenge id carries what the issuer will do once the payer answers: p(ass), d(ecline)
// or e(rror). It is random beyond that one letter, and only ever held server-side.
const CHALLENGE_KINDS = { '3ds-challenge': 'p', '3ds-challenge-then-decline': 'd', '3ds-challenge-then-error': 'e' } as const;
const CHALLENGE_ID = /^sbx3ds_([pde])_[0-9A-Za-z]{24}$/;

const reference = (): string => `sbx_${randomBase62(24)}`;

export class SandboxProcessor implements CardProcessor {
  readonly name = 'sandbox';

  async authorise(request: AuthoriseRequest): Promise<AuthoriseOutcome> {
    const test = findSandboxCard(request.card.number);
    const summary = summarise(request, test);
    if (request.mode === 'live') {
      // A test number on a live account is a declined card, never an authorisation.
      return test ? { outcome: 'rejected', reason: 'declined', card: summary } : { outcome: 'error', reason: SANDBOX_REASONS.live, card: summary };
    }
    if (!test) return { outcome: 'error', reason: SANDBOX_REASONS.unsupported, card: summary };

    switch (test.behaviour) {
      case 'authorise':
        return { outcome: 'authorised', processorReference: reference(), card: summary };
      case 'authorise-present-only':
        return request.payerPresent
          ? { outcome: 'authorised', processorReference: reference(), card: summary }
          : { outcome: 'rejected', reason: 'declined', card: summary };
      case 'decline':
        return { outcome: 'rejected', reason: 'declined', card: summary };
      case 'expired':
        return { outcome: 'rejected', reason: 'expired_card', card: summary };
      case 'cvc-error':
        return { outcome: 'rejected', reason: 'cvc_error', card: summary };
      case 'processing-error':
        return { outcome: 'error', reason: SANDBOX_REASONS.processing, card: summary };
      case '3ds-challenge':
      case '3ds-challenge-then-decline':
      case '3ds-challenge-then-error':
        // No payer to answer a challenge on an agreement payment: the issuer declines it.
        if (!request.payerPresent) return { outcome: 'rejected', reason: 'declined', card: summary };
        return {
          outcome: 'requires_3ds',
          processorReference: reference(),
          card: summary,
          challengeId: `sbx3ds_${CHALLENGE_KINDS[test.behaviour]}_${randomBase62(24)}`,
        };
      case 'timeout':
        throw new ProcessorUnavailable('sandbox: simulated timeout');
    }
  }

  async completeThreeDs(request: { paymentId: string; processorReference: string; challengeId: string; answer: string }): Promise<ThreeDsOutcome> {
    const kind = CHALLENGE_ID.exec(request.challengeId)?.[1];
    if (kind === undefined) return { outcome: 'error', reason: 'Unknown 3-D Secure challenge.' };
    if (!constantTimeEqual(request.answer.trim(), SANDBOX_3DS_CODE)) return { outcome: 'rejected' };
    if (kind === 'd') return { outcome: 'rejected' };
    if (kind === 'e') return { outcome: 'error', reason: SANDBOX_REASONS.processing };
    return { outcome: 'authorised' };
  }

  // Captures, cancels and refunds always succeed immediately, as in GOV.UK Pay's sandbox.
  async capture(): Promise<SimpleOutcome> {
    return { outcome: 'ok', processorReference: reference() };
  }

  async cancel(): Promise<SimpleOutcome> {
    return { outcome: 'ok', processorReference: reference() };
  }

  async refund(): Promise<SimpleOutcome> {
    return { outcome: 'ok', processorReference: reference() };
  }

  acceptsCard(digits: string, mode: 'test' | 'live'): boolean {
    return mode === 'test' && findSandboxCard(digits) !== undefined;
  }

  testChallengeHint(): string {
    return SANDBOX_3DS_CODE;
  }
}

function summarise(request: AuthoriseRequest, test: SandboxCard | undefined): CardSummary {
  return summariseCard(request.card, test ? { cardType: test.cardType, corporate: test.corporate, prepaid: test.prepaid } : {});
}
