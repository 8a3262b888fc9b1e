// What every service function is handed: the database, the clock and the logger, plus
// facts about the deployment that some rules depend on (live accounts need PostgreSQL and
// an operator-supplied master key).
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Redis } from 'ioredis';
import type { Clock } from './clock.js';
import type { Database } from '../store/schema.js';
import type { StoreKind } from '../store/database.js';
import type { CardProcessor } from '../connectors/connector.js';
import type { MailSettings } from '../notifications/mailer.js';
import type { AlertSettings } from '../alerts/alert.settings.js';

export interface AppContext {
  db: Kysely<Database>;
  storeKind: StoreKind;
  clock: Clock;
  log: Logger;
  masterKey: { key: Buffer; fromEnvironment: boolean };
  /** Where payers and users reach this Coffer, e.g. https://pay.example.org (no trailing slash). */
  baseUrl: string;
  /** The card processor (the sandbox until real ones are added). */
  cardProcessor: CardProcessor;
  /** Console session and account policy; defaults apply where absent (see console/settings.ts). */
  console?: Partial<ConsolePolicy>;
  /** Webhook delivery settings; defaults apply where absent (see webhooks/settings.ts). */
  webhooks?: Partial<WebhookSettings>;
  /** Payments API policy; GOV.UK Pay's defaults apply where absent (see payments/rate-limit.ts). */
  payments?: Partial<PaymentsPolicy>;
  /** Outgoing email (alerts, invites); unset or without an SMTP URL, nothing is sent. */
  mail?: MailSettings;
  /** Detector thresholds and windows; documented defaults apply where absent (see alerts/alert.settings.ts). */
  alerts?: AlertSettings;
  /** The optional Redis (REDIS_URL) for state shared by every node, such as rate-limit counters (store/redis.ts). */
  redis?: Redis;
}

export interface PaymentsPolicy {
  /** Per-second limits for accounts without their own: GOV.UK Pay's 15 / 15 / 15 / 75. */
  defaultRateLimits: { create_payment: number; capture_payment: number; post: number; get: number };
}

export interface WebhookSettings {
  /** One deadline for a delivery attempt: connect, response and reading its start (default 10 s). */
  timeoutMs: number;
  /**
   * Ranges that test-mode endpoints may reach despite the SSRF guard: range names (loopback,
   * private, linkLocal, uniqueLocal, carrierGradeNat) or CIDRs. Never applies to live endpoints.
   */
  allowPrivateNetworks: string[];
  /** Resolves webhook host names; the system resolver unless replaced (tests use a stub resolver). */
  resolveHost: (hostname: string) => Promise<{ address: string; family: 4 | 6 }[]>;
}

export interface ConsolePolicy {
  /** A console session ends after this long without a request (PCI DSS 8.2.8: at most 15 minutes). */
  idleTimeoutMs: number;
  /** A console session ends this long after sign-in, however active. */
  absoluteLifetimeMs: number;
  /** Users who have not signed in for this long are disabled (PCI DSS 8.2.6: at most 90 days); 0 turns it off. */
  inactiveDisableAfterMs: number;
}
