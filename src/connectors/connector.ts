// The card processor interface. The payment logic talks only to this, so a real processor can
// be added without touching it. Expected outcomes (declined, expired card) are values; a
// timeout or a failure to reach the processor is thrown (ProcessorUnavailable), and the caller,
// having marked the payment in flight first, leaves it for the reconciling sweeper.
//
// Card details pass through here in memory only: never logged, never stored, never queued.

export interface CardDetails {
  /** Digits only. */
  number: string;
  expiryMonth: number;
  /** Four digits. */
  expiryYear: number;
  cvc: string;
  cardholderName: string;
}

export type CardBrand = 'visa' | 'master-card' | 'american-express' | 'diners-club' | 'discover' | 'jcb' | 'unionpay' | 'maestro';

/** What may be kept about a card: never the full number, never the CVC. */
export interface CardSummary {
  brand: CardBrand | undefined;
  firstDigits: string; // first six
  lastDigits: string; // last four
  expiryDate: string; // MM/YY
  cardType: 'credit' | 'debit' | null;
  corporate: boolean;
  prepaid: 'PREPAID' | 'NOT_PREPAID' | 'UNKNOWN';
}

export interface AuthoriseRequest {
  paymentId: string;
  amount: number;
  currency: string;
  mode: 'test' | 'live';
  card: CardDetails;
  /** Whether the payer is present (false for agreement payments). */
  payerPresent: boolean;
}

export type AuthoriseOutcome =
  | { outcome: 'authorised'; processorReference: string; card: CardSummary }
  | { outcome: 'requires_3ds'; processorReference: string; card: CardSummary; challengeId: string }
  | { outcome: 'rejected'; reason: 'declined' | 'expired_card' | 'cvc_error'; card: CardSummary | undefined }
  | { outcome: 'error'; reason: string; card: CardSummary | undefined };

export type ThreeDsOutcome = { outcome: 'authorised' } | { outcome: 'rejected' } | { outcome: 'error'; reason: string };

export type SimpleOutcome = { outcome: 'ok'; processorReference: string } | { outcome: 'error'; reason: string };

export interface CardProcessor {
  readonly name: string;
  authorise(request: AuthoriseRequest): Promise<AuthoriseOutcome>;
  /** Checks the payer's answer to a 3-D Secure challenge. */
  completeThreeDs(request: { paymentId: string; processorReference: string; challengeId: string; answer: string }): Promise<ThreeDsOutcome>;
  capture(request: { paymentId: string; processorReference: string; amount: number }): Promise<SimpleOutcome>;
  cancel(request: { paymentId: string; processorReference: string }): Promise<SimpleOutcome>;
  refund(request: { refundId: string; paymentId: string; processorReference: string; amount: number }): Promise<SimpleOutcome>;
  /**
   * Whether the processor would try this card at all in this mode: test accounts take only the
   * processor's test cards, live accounts never take them. Lets the payment page refuse early and
   * say why, before anything is sent. Optional: a processor without it is asked every time.
   */
  acceptsCard?(digits: string, mode: 'test' | 'live'): boolean;
  /** In test mode, what the simulated issuer page may tell the payer (e.g. the sandbox's code). */
  testChallengeHint?(): string | undefined;
}

/** The processor could not be reached or did not answer in time: the outcome is unknown. */
export class ProcessorUnavailable extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ProcessorUnavailable';
  }
}
