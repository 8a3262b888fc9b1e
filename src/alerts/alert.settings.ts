// Every detector's threshold and window, with documented defaults (docs/alerts.md) that an
// operator overrides through COFFER_ALERT_THRESHOLDS, e.g. "signin_failures_user=3/10m".
// A detector fires when `threshold` events fall in one window of `windowMs`; the same window is
// how long a repeat of an open alert stays quiet before its administrators are told again.
import type { AppContext } from '../platform/context.js';
import { parseDuration } from '../platform/duration.js';

export const DETECTORS = [
  'signin_failures_user',
  'signin_failures_ip',
  'rate_limit_breaches',
  'card_testing_refusals',
  'card_testing_declines_ip',
  'card_testing_cards_ip',
  'card_testing_cards_payment',
  'key_new_network',
  'key_new_country',
  'key_revoked_use',
  'refund_spike_count',
  'refund_spike_amount',
  'key_leaked',
  'webhook_endpoint_disabled',
] as const;
export type Detector = (typeof DETECTORS)[number];

export interface DetectorSetting {
  /** Events in one window that raise the alert (for refund spikes: the floor, see below). */
  threshold: number;
  windowMs: number;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

export const DEFAULT_DETECTOR_SETTINGS: Readonly<Record<Detector, DetectorSetting>> = {
  // Half the account lockout (10), so administrators hear before the owner is locked out.
  signin_failures_user: { threshold: 5, windowMs: 15 * MINUTE },
  // A third of the per-IP throttle (30 in 15 minutes): someone spraying passwords.
  signin_failures_ip: { threshold: 10, windowMs: 15 * MINUTE },
  // One 429 is a busy second; ten in five minutes is a client that does not back off.
  rate_limit_breaches: { threshold: 10, windowMs: 5 * MINUTE },
  // The payment pages refused an authorisation at a card-testing limit: always worth a look.
  card_testing_refusals: { threshold: 1, windowMs: HOUR },
  card_testing_declines_ip: { threshold: 5, windowMs: HOUR },
  card_testing_cards_ip: { threshold: 4, windowMs: HOUR },
  card_testing_cards_payment: { threshold: 3, windowMs: HOUR },
  // The first network a key is used from is learnt quietly; any further one alerts.
  key_new_network: { threshold: 1, windowMs: DAY },
  // Likewise by country (from the GeoIP database, see alerts/geoip.ts): the first is learnt quietly.
  key_new_country: { threshold: 1, windowMs: DAY },
  key_revoked_use: { threshold: 1, windowMs: DAY },
  // Refunds in one window: at least `threshold` and more than REFUND_SPIKE_FACTOR times the
  // service's average for such a window over the previous REFUND_BASELINE_DAYS days.
  refund_spike_count: { threshold: 10, windowMs: HOUR },
  // The same, for the amount refunded, in minor units (100000 = £1,000).
  refund_spike_amount: { threshold: 100_000, windowMs: HOUR },
  key_leaked: { threshold: 1, windowMs: DAY },
  webhook_endpoint_disabled: { threshold: 1, windowMs: DAY },
};

export const REFUND_SPIKE_FACTOR = 3;
export const REFUND_BASELINE_DAYS = 7;

export interface AlertSettings {
  detectors: Partial<Record<Detector, DetectorSetting>>;
  /** The MMDB country database for the new-country detector: a path, 'off', or unset for the bundled one. */
  geoIpDatabase?: string | undefined;
}

export function isDetector(value: string): value is Detector {
  return (DETECTORS as readonly string[]).includes(value);
}

export function detectorSetting(ctx: AppContext, detector: Detector): DetectorSetting {
  return ctx.alerts?.detectors?.[detector] ?? DEFAULT_DETECTOR_SETTINGS[detector];
}

/**
 * Parses "name=threshold/window,…" (window as 15m, 1h, 1d). Returns the overrides and one
 * problem per bad item, for the configuration check at start.
 */
export function parseDetectorOverrides(text: string): { detectors: AlertSettings['detectors']; problems: string[] } {
  const detectors: AlertSettings['detectors'] = {};
  const problems: string[] = [];
  for (const item of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    const match = /^([a-z_]+)=(\d{1,9})\/(\w{1,12})$/.exec(item);
    const name = match?.[1] ?? '';
    const windowMs = match?.[3] !== undefined ? parseDuration(match[3]) : undefined;
    const threshold = Number(match?.[2]);
    if (!match || !isDetector(name)) problems.push(`"${item}": expected detector=threshold/window with a known detector (${DETECTORS.join(', ')})`);
    else if (threshold < 1) problems.push(`"${item}": the threshold must be at least 1`);
    else if (windowMs === undefined || windowMs < MINUTE || windowMs > 30 * DAY) problems.push(`"${item}": the window must be between 1m and 30d`);
    else detectors[name] = { threshold, windowMs };
  }
  return { detectors, problems };
}
