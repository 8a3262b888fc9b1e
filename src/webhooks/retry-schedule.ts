// When a failed message is tried again. Retries are at fixed offsets from the start of the
// message's schedule (its creation, or a manual re-send): 1 min, 5 min, 30 min, 2 h, 5 h, 10 h,
// 24 h, 48 h and 72 h, so ten attempts span three days, then the message is abandoned. Each
// retry is pushed later by up to 10% of its gap from the previous one (jitter, never earlier),
// and never sooner than a Retry-After the receiver sent (capped at a day).

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

export const RETRY_OFFSETS_MS: readonly number[] = [MINUTE, 5 * MINUTE, 30 * MINUTE, 2 * HOUR, 5 * HOUR, 10 * HOUR, 24 * HOUR, 48 * HOUR, 72 * HOUR];
export const MAX_ATTEMPTS = RETRY_OFFSETS_MS.length + 1;
export const JITTER_FRACTION = 0.1;
export const MAX_RETRY_AFTER_MS = 24 * HOUR;

/**
 * The time of the next attempt after `attemptsMade` attempts in this schedule have failed, or
 * undefined when the schedule is spent.
 */
export function nextAttemptAt(
  scheduleStart: Date,
  attemptsMade: number,
  now: Date,
  retryAfterMs: number | undefined,
  random: () => number = Math.random,
): Date | undefined {
  const offset = RETRY_OFFSETS_MS[attemptsMade - 1];
  if (offset === undefined) return undefined;
  const previous = attemptsMade >= 2 ? (RETRY_OFFSETS_MS[attemptsMade - 2] ?? 0) : 0;
  const jitter = Math.floor((offset - previous) * JITTER_FRACTION * random());
  const scheduled = Math.max(scheduleStart.getTime() + offset + jitter, now.getTime());
  const asked = retryAfterMs === undefined ? 0 : now.getTime() + Math.min(retryAfterMs, MAX_RETRY_AFTER_MS);
  return new Date(Math.max(scheduled, asked));
}

/** Retry-After as seconds or an HTTP date (RFC 9110 §10.2.3); undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, now: Date): number | undefined {
  if (value === null) return undefined;
  const text = value.trim();
  if (/^\d{1,9}$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now.getTime());
}
