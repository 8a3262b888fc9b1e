// The console's policy numbers, with the defaults PCI DSS sets as ceilings. Operators may
// shorten them (or, for the absolute lifetime, lengthen it) through configuration.
import type { AppContext, ConsolePolicy } from '../platform/context.js';

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

export const DEFAULT_CONSOLE_POLICY: ConsolePolicy = {
  idleTimeoutMs: 15 * MINUTE,
  absoluteLifetimeMs: 12 * HOUR,
  inactiveDisableAfterMs: 90 * DAY,
};

export function consolePolicy(ctx: AppContext): ConsolePolicy {
  return { ...DEFAULT_CONSOLE_POLICY, ...(ctx.console ?? {}) };
}

/** Fixed security numbers (not configurable: they are the requirement). */
export const LIMITS = {
  /** PCI DSS 8.3.4: lock after at most 10 failed attempts, for at least 30 minutes. */
  accountMaxFailures: 10,
  accountLockMs: 30 * MINUTE,
  /** A known device has its own count; past it the device token is revoked. */
  deviceMaxFailures: 10,
  /** Failures from one IP address within the window before that address is throttled. */
  ipMaxFailures: 30,
  ipWindowMs: 15 * MINUTE,
  /** How long a half-finished sign-in (password given, MFA awaited) may wait. */
  pendingSignInMs: 10 * MINUTE,
  /** Step-up: the last MFA must be this recent for sensitive actions. */
  stepUpMaxAgeMs: 5 * MINUTE,
  inviteLifetimeMs: 24 * HOUR,
  knownDeviceLifetimeMs: 180 * DAY,
  oidcFlowMs: 10 * MINUTE,
} as const;
